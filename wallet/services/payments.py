"""Deposits and withdrawals through the PSP, with their ledger postings, checks and events.

Deposit:    Requested -> Approved (PSP took the money: PSP clearing -> real money)
                      -> Rejected (PSP declined) / Cancelled (player gave up, or it expired)
            Approved  -> Rollback (chargeback: real money -> PSP clearing; a shortfall is a house loss)
Withdrawal: Requested (real money -> withdrawal hold) -> Approved by staff (hold -> PSP clearing,
            then paid out by the PSP) / Rejected by staff or Cancelled by the player (hold -> real money)
            Approved  -> Rollback (the PSP could not pay out: PSP clearing -> real money)

Every status change emits a Fast Track PAYMENT event (Credit for deposits, Debit for withdrawals;
a Rollback reuses the payment_id) and every change of real or bonus money a USER_BALANCES_UPDATE,
both in the transaction of the change. Lock order everywhere: the payment row, then accounts by id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from audit.services import audit_record
from crm.fasttrack.events import PAYMENT_TYPE_DEPOSIT, PAYMENT_TYPE_WITHDRAWAL, payment_data
from crm.models import EventType
from crm.services import crm_event_record
from igaming.errors import PermissionRefused
from players.models import AccountStatus, LimitKind, LimitPeriod, Player
from players.selectors import player_block_flags, player_limit_value
from wallet import currencies
from wallet.exceptions import (
    DepositLimitExceeded,
    DepositsNotAllowed,
    IdempotencyConflict,
    InsufficientFunds,
    PaymentNotFound,
    PaymentStateConflict,
    PspMismatch,
    ReasonRequired,
)
from wallet.models import (
    AccountKind,
    LedgerTransaction,
    Payment,
    PaymentKind,
    PaymentStatus,
    PayoutStatus,
    TransactionKind,
    TransactionSource,
)
from wallet.money import currency_check, money_parse, money_str
from wallet.services.ledger import (
    accounts_lock_for,
    balances_event_record,
    external_id_clean,
    ledger_post,
    reversal_legs,
)

REAL, BONUS, HOLD = AccountKind.REAL, AccountKind.BONUS, AccountKind.WITHDRAWAL_HOLD
CLEARING, LOSS = AccountKind.PSP_CLEARING, AccountKind.CHARGEBACK_LOSS

logger = logging.getLogger(__name__)

# Deposits that count against a deposit limit: pending ones too, so two open deposits cannot
# together pass it; a rolled-back deposit was still deposited.
LIMIT_COUNTED_STATUSES = (PaymentStatus.REQUESTED, PaymentStatus.APPROVED, PaymentStatus.ROLLBACK)
NO_DEPOSIT_STATUSES = {AccountStatus.BLOCKED, AccountStatus.SUSPENDED, AccountStatus.SELF_EXCLUDED,
                       AccountStatus.DEACTIVATED}
PERIOD_LABELS = {LimitPeriod.DAY: "daily", LimitPeriod.WEEK: "weekly", LimitPeriod.MONTH: "monthly"}


@dataclass(frozen=True)
class PaymentResult:
    payment: Payment
    created: bool  # False: an idempotent replay of an earlier request


# ---------------------------------------------------------------------------------------------
# Shared pieces


def _payment_event(payment: Payment, note: str = "") -> None:
    payment_type = PAYMENT_TYPE_DEPOSIT if payment.kind == PaymentKind.DEPOSIT else PAYMENT_TYPE_WITHDRAWAL
    crm_event_record(event_type=EventType.PAYMENT, player=payment.player, data=payment_data(
        payment_id=payment.pk, amount=payment.amount.quantize(currencies.quantum(payment.currency)),
        currency=payment.currency, status=payment.status, payment_type=payment_type,
        vendor_id=settings.PSP_VENDOR_ID, vendor_name=settings.PSP_VENDOR_NAME,
        exchange_rate=currencies.exchange_rate(payment.currency), note=note,
    ))


def _lock_payment(payment_id, *, kind: str, player: Player | None = None) -> Payment:
    """The payment row, locked (not its player: `of=self`). A player sees only their own."""
    try:
        payment = Payment.objects.select_for_update(of=("self",)).select_related("player").get(pk=int(payment_id))
    except (Payment.DoesNotExist, ValueError, TypeError, OverflowError):
        raise PaymentNotFound() from None
    if payment.kind != kind or (player is not None and payment.player_id != player.pk):
        raise PaymentNotFound()
    return payment


def _replay_or_conflict(existing: Payment, *, kind: str, amount: Decimal, currency: str) -> PaymentResult:
    if existing.kind != kind or existing.amount != amount or existing.currency != currency:
        raise IdempotencyConflict()
    return PaymentResult(existing, created=False)


def _save(payment: Payment, *fields: str) -> None:
    payment.updated_at = timezone.now()
    payment.save(update_fields=[*fields, "updated_at"])


def _require_reason(reason: str) -> str:
    if not reason or not reason.strip():
        raise ReasonRequired()
    return reason.strip()[:500]


def _require_perm(actor, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionRefused()


def period_start(period: str, now: datetime) -> datetime:
    """The start of the calendar day, ISO week (Monday) or month containing `now`, in UTC."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == LimitPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if period == LimitPeriod.MONTH:
        return day.replace(day=1)
    return day


def deposit_limit_check(*, player: Player, amount: Decimal, now: datetime) -> None:
    """Raise DepositLimitExceeded when `amount` on top of this period's deposits passes a limit.

    Calendar periods in UTC; counts pending, approved and rolled-back deposits. The caller holds
    the lock of the player's real-money account, so concurrent requests are counted one by one.
    """
    for period in (LimitPeriod.DAY, LimitPeriod.WEEK, LimitPeriod.MONTH):
        limit = player_limit_value(player, LimitKind.DEPOSIT, period, at=now)
        if limit is None:
            continue
        used = Payment.objects.filter(
            player=player, kind=PaymentKind.DEPOSIT, status__in=LIMIT_COUNTED_STATUSES,
            created_at__gte=period_start(period, now),
        ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if used + amount > limit:
            left = max(limit - used, Decimal(0))
            raise DepositLimitExceeded(
                f"This deposit would exceed your {PERIOD_LABELS[period]} deposit limit "
                f"of {money_str(limit, player.currency)} {player.currency}.",
                fields={"amount": [f"You can deposit up to {money_str(left, player.currency)} {player.currency} "
                                   f"more this period."]},
            )


# ---------------------------------------------------------------------------------------------
# Deposits


def deposit_request(*, player: Player, amount, currency, external_id) -> PaymentResult:
    """A player starts a deposit: a Requested payment; money moves when the PSP approves it.

    Checked inside the transaction, under the lock of the player's real-money account (so two
    requests cannot both slip under a limit): the amount, the currency (the player's), blocks,
    self-exclusion and the account status, and the daily, weekly and monthly deposit limits.
    Idempotent on (player, external_id). Emits PAYMENT Requested. Raises WalletInputInvalid,
    DepositsNotAllowed, DepositLimitExceeded, IdempotencyConflict.
    """
    currency = currency_check(currency, expected=player.currency)
    amount = money_parse(amount, currency)
    external_id = external_id_clean(external_id, field="idempotency_key")
    now = timezone.now()
    with transaction.atomic():
        accounts_lock_for(player=player, currency=currency, player_kinds=[REAL])
        existing = Payment.objects.filter(player=player, external_id=external_id).first()
        if existing is not None:
            return _replay_or_conflict(existing, kind=PaymentKind.DEPOSIT, amount=amount, currency=currency)
        flags = player_block_flags(player, now)
        if flags.is_blocked or flags.is_excluded or player.status in NO_DEPOSIT_STATUSES:
            raise DepositsNotAllowed()
        deposit_limit_check(player=player, amount=amount, now=now)
        payment = Payment.objects.create(player=player, kind=PaymentKind.DEPOSIT, amount=amount, currency=currency,
                                         external_id=external_id, created_at=now, updated_at=now)
        _payment_event(payment)
    return PaymentResult(payment, created=True)


def _check_psp_amount(payment: Payment, amount, currency) -> None:
    if currency != payment.currency:
        raise PspMismatch()
    try:
        reported = money_parse(amount, payment.currency)
    except Exception:  # noqa: BLE001 - any unreadable amount is a mismatch
        raise PspMismatch() from None
    if reported != payment.amount:
        raise PspMismatch()


def deposit_approve(*, payment_id, psp_reference: str, amount, currency: str) -> Payment:
    """The PSP took the money: book PSP clearing -> the player's real money.

    Locks the payment, then the real-money and PSP clearing accounts. Idempotent: an approved
    deposit is returned unchanged. Emits PAYMENT Approved and USER_BALANCES_UPDATE. Raises
    PaymentNotFound, PspMismatch (amount or currency differ from the request), PaymentStateConflict.
    """
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.DEPOSIT)
        _check_psp_amount(payment, amount, currency)
        if payment.status == PaymentStatus.APPROVED:
            return payment
        if payment.status != PaymentStatus.REQUESTED:
            raise PaymentStateConflict(f"A deposit in status {payment.status} cannot be approved.")
        player = payment.player
        locked = accounts_lock_for(player=player, currency=payment.currency, player_kinds=[REAL, BONUS],
                                   house_kinds=[CLEARING])
        real, clearing = locked[REAL], locked[CLEARING]
        ledger_post(kind=TransactionKind.DEPOSIT, source=TransactionSource.PAYMENTS,
                    external_id=f"deposit:{payment.pk}", player=player, currency=payment.currency,
                    amount=payment.amount, legs=[(clearing, -payment.amount), (real, payment.amount)],
                    payment=payment)
        payment.status, payment.psp_reference = PaymentStatus.APPROVED, psp_reference
        payment.decided_at = timezone.now()
        _save(payment, "status", "psp_reference", "decided_at")
        _payment_event(payment)
        balances_event_record(player=player, currency=payment.currency, real=real, bonus=locked[BONUS])
    return payment


def deposit_fail(*, payment_id, status: str, reason: str = "", psp_reference: str = "") -> Payment:
    """A deposit that will not happen: Rejected (the PSP declined) or Cancelled (given up, expired).

    Locks the payment; no money moved, so no posting. Idempotent for the same outcome. Emits PAYMENT.
    Raises PaymentNotFound, PaymentStateConflict.
    """
    if status not in (PaymentStatus.REJECTED, PaymentStatus.CANCELLED):
        raise ValueError(f"a deposit cannot fail with status {status}")
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.DEPOSIT)
        if payment.status == status:
            return payment
        if payment.status != PaymentStatus.REQUESTED:
            raise PaymentStateConflict(f"A deposit in status {payment.status} cannot become {status}.")
        payment.status, payment.reason, payment.decided_at = status, reason[:500], timezone.now()
        payment.psp_reference = psp_reference or payment.psp_reference
        _save(payment, "status", "reason", "decided_at", "psp_reference")
        _payment_event(payment, note=reason[:200])
    return payment


def deposit_rollback(*, payment_id, reason: str, actor=None) -> Payment:
    """A chargeback: reverse an approved deposit, once (the reversal's link is unique).

    Takes the amount back from the player's real money; what the player has already spent or
    holds for a withdrawal is booked as a house chargeback loss, so no balance goes negative.
    Locks the payment, then the real-money, PSP clearing and chargeback-loss accounts. Idempotent.
    Emits PAYMENT Rollback (same payment_id) and USER_BALANCES_UPDATE; audited when staff do it.
    Raises PaymentNotFound, PaymentStateConflict.
    """
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.DEPOSIT)
        if payment.status == PaymentStatus.ROLLBACK:
            return payment
        if payment.status != PaymentStatus.APPROVED:
            raise PaymentStateConflict(f"A deposit in status {payment.status} cannot be rolled back.")
        deposit_tx = LedgerTransaction.objects.get(payment=payment, kind=TransactionKind.DEPOSIT)
        player, currency, amount = payment.player, payment.currency, payment.amount
        locked = accounts_lock_for(player=player, currency=currency, player_kinds=[REAL, BONUS],
                                   house_kinds=[CLEARING, LOSS])
        real, clearing, loss = locked[REAL], locked[CLEARING], locked[LOSS]
        taken = min(real.balance, amount)
        legs = [(clearing, amount)]
        if taken > 0:
            legs.append((real, -taken))
        if amount - taken > 0:
            legs.append((loss, -(amount - taken)))
        ledger_post(kind=TransactionKind.DEPOSIT_ROLLBACK, source=TransactionSource.PAYMENTS,
                    external_id=f"deposit-rollback:{payment.pk}", player=player, currency=currency, amount=amount,
                    legs=legs, payment=payment, reverses=deposit_tx, actor=actor, reason=reason[:500])
        before = payment.status
        payment.status, payment.reason = PaymentStatus.ROLLBACK, reason[:500]
        _save(payment, "status", "reason")
        if actor is not None:
            audit_record(actor=actor, action="wallet.deposit_rollback", target=payment, reason=reason,
                         before={"status": before}, after={"status": payment.status, "taken": str(taken)})
        _payment_event(payment, note="" if actor is not None else reason[:200])
        if taken > 0:
            balances_event_record(player=player, currency=currency, real=real, bonus=locked[BONUS])
    return payment


def deposits_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """Cancel deposits left Requested past PSP_DEPOSIT_EXPIRY_MINUTES (the PSP's page has expired too).

    Each in its own transaction via `deposit_fail`, which re-checks the status under the lock, so
    a late approval and the sweep never both win. Returns how many were cancelled.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.PSP_DEPOSIT_EXPIRY_MINUTES)
    stale = list(Payment.objects.filter(kind=PaymentKind.DEPOSIT, status=PaymentStatus.REQUESTED,
                                        created_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:batch])
    cancelled = 0
    for payment_id in stale:
        try:
            deposit_fail(payment_id=payment_id, status=PaymentStatus.CANCELLED, reason="Expired")
            cancelled += 1
        except PaymentStateConflict:
            continue  # approved or rejected meanwhile
    return cancelled


# ---------------------------------------------------------------------------------------------
# Withdrawals


def withdrawal_request(*, player: Player, amount, currency, external_id) -> PaymentResult:
    """A player asks to withdraw: the amount moves from real money to the withdrawal hold at once,
    so it cannot be bet while staff decide. Blocked and self-excluded players may withdraw.

    Locks the real-money and hold accounts. Idempotent on (player, external_id). Emits PAYMENT
    Requested (Debit) and USER_BALANCES_UPDATE. Raises WalletInputInvalid, InsufficientFunds,
    IdempotencyConflict.
    """
    currency = currency_check(currency, expected=player.currency)
    amount = money_parse(amount, currency)
    external_id = external_id_clean(external_id, field="idempotency_key")
    now = timezone.now()
    with transaction.atomic():
        locked = accounts_lock_for(player=player, currency=currency, player_kinds=[REAL, BONUS, HOLD])
        real, hold = locked[REAL], locked[HOLD]
        existing = Payment.objects.filter(player=player, external_id=external_id).first()
        if existing is not None:
            return _replay_or_conflict(existing, kind=PaymentKind.WITHDRAWAL, amount=amount, currency=currency)
        if real.balance < amount:
            raise InsufficientFunds(f"You can withdraw up to {money_str(real.balance, currency)} {currency}.")
        payment = Payment.objects.create(player=player, kind=PaymentKind.WITHDRAWAL, amount=amount, currency=currency,
                                         external_id=external_id, created_at=now, updated_at=now)
        ledger_post(kind=TransactionKind.WITHDRAWAL_HOLD, source=TransactionSource.PAYMENTS,
                    external_id=f"withdrawal-hold:{payment.pk}", player=player, currency=currency, amount=amount,
                    legs=[(real, -amount), (hold, amount)], payment=payment)
        _payment_event(payment)
        balances_event_record(player=player, currency=currency, real=real, bonus=locked[BONUS])
    return PaymentResult(payment, created=True)


def _withdrawal_release(payment: Payment, *, status: str, reason: str, actor=None) -> None:
    """Hold -> real money, as the reversal of the hold. The payment row is locked by the caller."""
    hold_tx = LedgerTransaction.objects.get(payment=payment, kind=TransactionKind.WITHDRAWAL_HOLD)
    locked = accounts_lock_for(player=payment.player, currency=payment.currency, player_kinds=[REAL, BONUS, HOLD])
    ledger_post(kind=TransactionKind.WITHDRAWAL_RELEASE, source=TransactionSource.PAYMENTS,
                external_id=f"withdrawal-release:{payment.pk}", player=payment.player, currency=payment.currency,
                amount=payment.amount, legs=reversal_legs(hold_tx, locked.by_id()),
                payment=payment, reverses=hold_tx, actor=actor, reason=reason)
    payment.status, payment.reason, payment.decided_at, payment.decided_by = status, reason, timezone.now(), actor
    _save(payment, "status", "reason", "decided_at", "decided_by")
    # A staff reason is internal (compliance notes); the CRM gets it only when the system wrote it.
    _payment_event(payment, note="" if actor is not None else reason[:200])
    balances_event_record(player=payment.player, currency=payment.currency, real=locked[REAL], bonus=locked[BONUS])


def withdrawal_cancel(*, player: Player, payment_id) -> Payment:
    """The player takes back a withdrawal staff have not decided yet: the hold goes back to real money.

    Locks the payment, then the real-money and hold accounts. Idempotent. Emits PAYMENT Cancelled and
    USER_BALANCES_UPDATE. Raises PaymentNotFound (also for another player's), PaymentStateConflict.
    """
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.WITHDRAWAL, player=player)
        if payment.status == PaymentStatus.CANCELLED:
            return payment
        if payment.status != PaymentStatus.REQUESTED:
            raise PaymentStateConflict(f"A withdrawal in status {payment.status} cannot be cancelled.")
        _withdrawal_release(payment, status=PaymentStatus.CANCELLED, reason="Cancelled by the player")
    return payment


def withdrawal_reject(*, payment_id, actor, reason: str) -> Payment:
    """Staff (Compliance) refuse a withdrawal, with a reason: the hold goes back to real money.

    Locks the payment, then the accounts. Audited. Emits PAYMENT Rejected and USER_BALANCES_UPDATE.
    Raises PermissionRefused, ReasonRequired, PaymentNotFound, PaymentStateConflict.
    """
    _require_perm(actor, "wallet.approve_withdrawal")
    reason = _require_reason(reason)
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.WITHDRAWAL)
        if payment.status != PaymentStatus.REQUESTED:
            raise PaymentStateConflict(f"A withdrawal in status {payment.status} cannot be rejected.")
        _withdrawal_release(payment, status=PaymentStatus.REJECTED, reason=reason, actor=actor)
        audit_record(actor=actor, action="wallet.withdrawal_reject", target=payment, reason=reason,
                     before={"status": PaymentStatus.REQUESTED}, after={"status": payment.status})
    return payment


def withdrawal_approve(*, payment_id, actor, reason: str) -> Payment:
    """Staff (Compliance) approve a withdrawal, with a reason: the hold moves to PSP clearing and the
    payout is sent to the PSP after commit (a Celery task, retried; the sweep re-sends if lost).

    Locks the payment, then the hold and PSP clearing accounts. Audited. Emits PAYMENT Approved
    (real and bonus money do not change: the money left them when it was held).
    Raises PermissionRefused, ReasonRequired, PaymentNotFound, PaymentStateConflict.
    """
    _require_perm(actor, "wallet.approve_withdrawal")
    reason = _require_reason(reason)
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.WITHDRAWAL)
        if payment.status != PaymentStatus.REQUESTED:
            raise PaymentStateConflict(f"A withdrawal in status {payment.status} cannot be approved.")
        locked = accounts_lock_for(player=payment.player, currency=payment.currency, player_kinds=[HOLD],
                                   house_kinds=[CLEARING])
        ledger_post(kind=TransactionKind.WITHDRAWAL_PAYOUT, source=TransactionSource.PAYMENTS,
                    external_id=f"withdrawal-payout:{payment.pk}", player=payment.player, currency=payment.currency,
                    amount=payment.amount, legs=[(locked[HOLD], -payment.amount), (locked[CLEARING], payment.amount)],
                    payment=payment, actor=actor, reason=reason)
        payment.status, payment.payout_status = PaymentStatus.APPROVED, PayoutStatus.PENDING
        payment.reason, payment.decided_at, payment.decided_by = reason, timezone.now(), actor
        _save(payment, "status", "payout_status", "reason", "decided_at", "decided_by")
        audit_record(actor=actor, action="wallet.withdrawal_approve", target=payment, reason=reason,
                     before={"status": PaymentStatus.REQUESTED}, after={"status": payment.status})
        _payment_event(payment)
        payment_pk = payment.pk
        transaction.on_commit(lambda: _enqueue_payout(payment_pk))
    return payment


def _enqueue_payout(payment_id: int) -> None:
    from wallet.tasks import wallet_payout_send

    try:
        wallet_payout_send.delay(payment_id)
    except Exception:  # noqa: BLE001 - the broker is down: the payments sweep sends it later
        logger.warning("payout of withdrawal #%s not enqueued; the payments sweep will send it", payment_id)


def withdrawal_payout_confirmed(*, payment_id, psp_reference: str, amount, currency: str) -> Payment:
    """The PSP paid the player out. No money moves here: it left PSP clearing's side at approval.

    Locks the payment. Idempotent. Emits nothing (the status stays Approved).
    Raises PaymentNotFound, PspMismatch, PaymentStateConflict.
    """
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.WITHDRAWAL)
        _check_psp_amount(payment, amount, currency)
        if payment.payout_status == PayoutStatus.CONFIRMED:
            return payment
        if payment.status != PaymentStatus.APPROVED:
            raise PaymentStateConflict(f"A withdrawal in status {payment.status} cannot be paid out.")
        payment.payout_status, payment.psp_reference = PayoutStatus.CONFIRMED, psp_reference
        _save(payment, "payout_status", "psp_reference")
    return payment


def withdrawal_payout_failed(*, payment_id, reason: str, psp_reference: str = "") -> Payment:
    """The PSP could not pay out: reverse the payout, so the money is the player's real money again.

    Locks the payment, then the real-money and PSP clearing accounts. Idempotent. Emits PAYMENT
    Rollback (same payment_id) and USER_BALANCES_UPDATE. Raises PaymentNotFound, PaymentStateConflict.
    """
    with transaction.atomic():
        payment = _lock_payment(payment_id, kind=PaymentKind.WITHDRAWAL)
        if payment.status == PaymentStatus.ROLLBACK:
            return payment
        if payment.status != PaymentStatus.APPROVED or payment.payout_status == PayoutStatus.CONFIRMED:
            raise PaymentStateConflict("Only an approved withdrawal not yet paid out can fail at the PSP.")
        payout_tx = LedgerTransaction.objects.get(payment=payment, kind=TransactionKind.WITHDRAWAL_PAYOUT)
        locked = accounts_lock_for(player=payment.player, currency=payment.currency, player_kinds=[REAL, BONUS],
                                   house_kinds=[CLEARING])
        ledger_post(kind=TransactionKind.WITHDRAWAL_ROLLBACK, source=TransactionSource.PAYMENTS,
                    external_id=f"withdrawal-rollback:{payment.pk}", player=payment.player, currency=payment.currency,
                    amount=payment.amount, legs=[(locked[CLEARING], -payment.amount), (locked[REAL], payment.amount)],
                    payment=payment, reverses=payout_tx, reason=reason[:500])
        payment.status, payment.payout_status = PaymentStatus.ROLLBACK, PayoutStatus.FAILED
        payment.reason = reason[:500]
        payment.psp_reference = psp_reference or payment.psp_reference
        _save(payment, "status", "payout_status", "reason", "psp_reference")
        _payment_event(payment, note=reason[:200])
        balances_event_record(player=payment.player, currency=payment.currency, real=locked[REAL],
                              bonus=locked[BONUS])
    return payment
