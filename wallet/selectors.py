"""Reads shared by the API, the cashier site, the admin and the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum

from players.models import Player
from wallet.models import (
    Account,
    AccountKind,
    Entry,
    LedgerTransaction,
    Payment,
    PaymentKind,
    PaymentStatus,
    ReconciliationRun,
)


@dataclass(frozen=True)
class Balance:
    currency: str
    real_money: Decimal
    bonus_money: Decimal
    withdrawal_hold: Decimal


def wallet_balance(player: Player) -> Balance:
    """The player's balances in their currency (zero before the first payment). One query."""
    balances = dict(Account.objects.filter(player=player, currency=player.currency).values_list("kind", "balance"))
    return Balance(
        currency=player.currency,
        real_money=balances.get(AccountKind.REAL, Decimal(0)),
        bonus_money=balances.get(AccountKind.BONUS, Decimal(0)),
        withdrawal_hold=balances.get(AccountKind.WITHDRAWAL_HOLD, Decimal(0)),
    )


def player_payments(player: Player, kind: str | None = None) -> QuerySet:
    payments = Payment.objects.filter(player=player)
    return payments.filter(kind=kind) if kind else payments


def player_transactions(player: Player) -> QuerySet:
    """The player's ledger transactions, newest first, each with its entries on the player's accounts."""
    own_entries = Entry.objects.filter(account__player=player).select_related("account").order_by("id")
    return (LedgerTransaction.objects.filter(player=player).order_by("-created_at", "-id")
            .prefetch_related(Prefetch("entries", queryset=own_entries, to_attr="player_entries")))


def transaction_search(
    *,
    player_id: int | None = None,
    external_id: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    queryset: QuerySet | None = None,
) -> QuerySet:
    """The back-office search over ledger transactions, newest first.

    Each filter maps to an index: player (player, created_at), external id (the unique
    (external_id, source) index), kind (kind, created_at), dates (created_at); `status` is the status
    of the payment the transaction belongs to (transactions themselves are immutable facts).
    """
    transactions = LedgerTransaction.objects.all() if queryset is None else queryset
    if player_id is not None:
        transactions = transactions.filter(player_id=player_id)
    if external_id:
        transactions = transactions.filter(external_id=external_id.strip())
    if kind:
        transactions = transactions.filter(kind=kind)
    if status:
        transactions = transactions.filter(payment__status=status)
    if date_from is not None:
        transactions = transactions.filter(created_at__gte=date_from)
    if date_to is not None:
        transactions = transactions.filter(created_at__lt=date_to)
    return transactions.order_by("-created_at", "-id")


def withdrawal_queue() -> QuerySet:
    """Withdrawals waiting for a staff decision, oldest first."""
    return (Payment.objects.filter(kind=PaymentKind.WITHDRAWAL, status=PaymentStatus.REQUESTED)
            .select_related("player").order_by("created_at", "id"))


def reconciliation_latest() -> ReconciliationRun | None:
    return ReconciliationRun.objects.order_by("-started_at", "-id").first()


def house_balance(kind: str, currency: str) -> Decimal:
    """The house's balance of one kind in one currency: the sum of its shards."""
    return (Account.objects.filter(player__isnull=True, kind=kind, currency=currency)
            .aggregate(total=Sum("balance"))["total"] or Decimal(0))


def house_balances() -> list[dict]:
    """Every house balance by kind and currency (shards summed), for the back-office."""
    return list(Account.objects.filter(player__isnull=True).values("kind", "currency")
                .annotate(balance=Sum("balance"), shards=Count("id")).order_by("kind", "currency"))
