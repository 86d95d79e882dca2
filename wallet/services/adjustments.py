"""Manual balance adjustments by staff: a credit or debit against the house adjustments account."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from players.models import Player
from wallet.exceptions import WalletInputInvalid
from wallet.models import AccountKind, TransactionKind, TransactionSource
from wallet.money import currency_check, money_parse, money_str
from wallet.services.ledger import Posted, accounts_lock_for, balances_event_record, external_id_clean, ledger_post
from wallet.services.payments import _require_perm, _require_reason

ADJUSTABLE_KINDS = (AccountKind.REAL, AccountKind.BONUS)


def balance_adjust(*, player: Player, account_kind: str, credit: bool, amount, currency: str, external_id: str,
                   actor, reason: str) -> Posted:
    """Credit or debit a player's real or bonus money by hand (Compliance), with a mandatory reason.

    Idempotent on external_id (the admin form carries one, so a double submit books once). Locks the
    player's account and the house adjustments account in id order. Audited with the balances
    before and after. Emits USER_BALANCES_UPDATE. Raises PermissionRefused, ReasonRequired,
    WalletInputInvalid, InsufficientFunds (a debit below zero), IdempotencyConflict.
    """
    _require_perm(actor, "wallet.adjust_balance")
    reason = _require_reason(reason)
    if account_kind not in ADJUSTABLE_KINDS:
        raise WalletInputInvalid(fields={"account_kind": ["Adjust real or bonus money."]})
    currency = currency_check(currency, expected=player.currency)
    amount = money_parse(amount, currency)
    external_id = external_id_clean(external_id)
    with transaction.atomic():
        locked = accounts_lock_for(player=player, currency=currency, player_kinds=[AccountKind.REAL, AccountKind.BONUS],
                                   house_kinds=[AccountKind.MANUAL_ADJUSTMENTS])
        account, house = locked[account_kind], locked[AccountKind.MANUAL_ADJUSTMENTS]
        before = account.balance
        delta = amount if credit else -amount
        posted = ledger_post(kind=TransactionKind.ADJUSTMENT, source=TransactionSource.ADMIN, external_id=external_id,
                             player=player, currency=currency, amount=amount, legs=[(account, delta), (house, -delta)],
                             actor=actor, reason=reason)
        if posted.created:
            audit_record(actor=actor, action="wallet.balance_adjust", target=posted.transaction, reason=reason,
                         before={"account": account.pk, "balance": money_str(before, currency)},
                         after={"account": account.pk, "balance": money_str(account.balance, currency),
                                "delta": money_str(delta, currency)})
            balances_event_record(player=player, currency=currency, real=locked[AccountKind.REAL],
                                  bonus=locked[AccountKind.BONUS])
    return posted
