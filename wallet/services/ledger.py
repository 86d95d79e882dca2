"""The posting engine: accounts, row locks, balanced transactions, reversals and balance events.

Callers open the transaction, lock what they change in one fixed order (a payment row first, then
accounts in primary-key order, found and locked in one query by `accounts_lock_for`) and then call
`ledger_post`. The database checks the result again at commit (wallet/migrations/0002_ledger_guards.py).
House accounts are sharded (see `Account.shard`): a player's postings always use `house_shard(player)`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crm.fasttrack.events import balances_data
from crm.models import EventType
from crm.services import crm_event_record
from players.models import Player
from wallet import currencies
from wallet.exceptions import AlreadyReversed, IdempotencyConflict, InsufficientFunds, WalletInputInvalid
from wallet.models import PLAYER_ACCOUNT_KINDS, Account, AccountKind, LedgerTransaction, Payment

_EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}")
INSERT_TRANSACTION = """
INSERT INTO wallet_ledgertransaction
    (kind, source, external_id, player_id, currency, amount, payment_id, reverses_id, created_at, actor_id, reason)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT DO NOTHING RETURNING id
"""
POST_ENTRIES = """
WITH legs (account_id, amount, balance_after) AS (VALUES {legs}),
     entries AS (INSERT INTO wallet_entry (transaction_id, account_id, currency, amount, balance_after)
                 SELECT %s, account_id, %s, amount, balance_after FROM legs)
UPDATE wallet_account SET balance = legs.balance_after, updated_at = %s
  FROM legs WHERE wallet_account.id = legs.account_id
"""


@dataclass(frozen=True)
class Posted:
    transaction: LedgerTransaction
    created: bool  # False: the external id was seen before and this is the first result again


def external_id_clean(value, *, field: str = "external_id") -> str:
    """An idempotency key: 1-100 characters of letters, digits and . _ : - (starting with a letter or digit)."""
    if not isinstance(value, str) or not _EXTERNAL_ID.fullmatch(value):
        raise WalletInputInvalid(fields={field: ["Use 1-100 characters: letters, digits, '.', '_', ':' or '-'."]})
    return value


def accounts_for_player(player: Player, currency: str) -> dict[str, Account]:
    """The player's real, bonus and withdrawal-hold accounts in `currency`, created on first use.

    Locks nothing; a concurrent first use is harmless (INSERT ... ON CONFLICT DO NOTHING).
    """
    accounts = {account.kind: account for account in Account.objects.filter(player=player, currency=currency)}
    missing = [kind for kind in PLAYER_ACCOUNT_KINDS if kind not in accounts]
    if missing:
        Account.objects.bulk_create([Account(player=player, kind=kind, currency=currency) for kind in missing],
                                    ignore_conflicts=True)
        accounts = {account.kind: account for account in Account.objects.filter(player=player, currency=currency)}
    return accounts


def house_shard(player: Player | None) -> int:
    """The house shard a player's postings use: always the same one for the same player."""
    return 0 if player is None else player.pk % settings.WALLET_HOUSE_SHARDS


def house_account(kind: str, currency: str, *, shard: int = 0) -> Account:
    """One shard of the house account of `kind` in `currency`, created on first use. Locks nothing."""
    account = Account.objects.filter(player__isnull=True, kind=kind, currency=currency, shard=shard).first()
    if account is None:
        Account.objects.bulk_create([Account(kind=kind, currency=currency, shard=shard)], ignore_conflicts=True)
        account = Account.objects.get(player__isnull=True, kind=kind, currency=currency, shard=shard)
    return account


class LockedAccounts(dict):
    """Accounts locked by `accounts_lock_for`, by kind: locked[AccountKind.REAL]."""

    def by_id(self) -> dict[int, Account]:
        return {account.pk: account for account in self.values()}


def accounts_lock_for(*, player: Player, currency: str, player_kinds=(), house_kinds=()) -> LockedAccounts:
    """Find and lock, in one query and in id order, the player's accounts of `player_kinds` and the
    house accounts of `house_kinds` on the player's shard; missing ones are created first.

    Must run inside the transaction that changes them. Returns fresh rows by kind.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("accounts_lock_for() must run inside the transaction that changes the balances")
    shard = house_shard(player)
    wanted = (Q(player=player, currency=currency, kind__in=player_kinds)
              | Q(player__isnull=True, currency=currency, kind__in=house_kinds, shard=shard))
    rows = list(Account.objects.select_for_update().filter(wanted).order_by("pk"))
    if len(rows) < len(player_kinds) + len(house_kinds):
        found = {(row.player_id, row.kind) for row in rows}
        Account.objects.bulk_create(
            [Account(player=player, kind=kind, currency=currency) for kind in player_kinds
             if (player.pk, kind) not in found]
            + [Account(kind=kind, currency=currency, shard=shard) for kind in house_kinds if (None, kind) not in found],
            ignore_conflicts=True,
        )
        rows = list(Account.objects.select_for_update().filter(wanted).order_by("pk"))
    return LockedAccounts((row.kind, row) for row in rows)


def accounts_lock(accounts: Iterable[Account]) -> dict[int, Account]:
    """SELECT ... FOR UPDATE the accounts in primary-key order, so two postings never deadlock.

    Returns fresh rows by id: read balances from these, not from the instances passed in.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("accounts_lock() must run inside the transaction that changes the balances")
    ids = sorted({account.pk for account in accounts})
    return {account.pk: account for account in Account.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def _same_or_conflict(existing: LedgerTransaction, *, kind: str, player: Player | None, amount: Decimal,
                      currency: str, legs: Sequence[tuple[Account, Decimal]]) -> LedgerTransaction:
    """A replay must ask for the same thing: kind, player, amount, currency, and the same legs."""
    same = (existing.kind == kind and existing.player_id == (player.pk if player else None)
            and existing.currency == currency and existing.amount == amount)
    if same:
        booked = sorted(existing.entries.values_list("account_id", "amount"))
        same = booked == sorted((account.pk, delta) for account, delta in legs)
    if not same:
        raise IdempotencyConflict()
    return existing


def ledger_post(
    *,
    kind: str,
    source: str,
    external_id: str,
    currency: str,
    amount: Decimal,
    legs: Sequence[tuple[Account, Decimal]],
    player: Player | None = None,
    payment: Payment | None = None,
    reverses: LedgerTransaction | None = None,
    actor=None,
    reason: str = "",
) -> Posted:
    """Book one balanced transaction: `legs` are (account, signed amount) pairs summing to zero.

    The accounts must come from `accounts_lock_for` or `accounts_lock` in the caller's transaction (house
    accounts may be locked last, see wallet.services.game_play). Updates their cached
    balances and writes one entry per leg with the running balance. Idempotent on (source,
    external_id): a replay returns the first transaction (created=False); the same id with another
    kind, player, amount, currency or legs raises IdempotencyConflict. Raises InsufficientFunds when a
    player account would go below zero, AlreadyReversed for a second reversal. Emits nothing:
    the use-case emits its events.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger_post() must run inside the caller's transaction")
    _check_legs(legs, currency)

    def replay_or_none() -> Posted | None:
        existing = LedgerTransaction.objects.filter(source=source, external_id=external_id).first()
        if existing is None:
            return None
        return Posted(_same_or_conflict(existing, kind=kind, player=player, amount=amount, currency=currency,
                                        legs=legs), False)

    if any(not account.is_house and account.balance + delta < 0 for account, delta in legs):
        if replayed := replay_or_none():  # a replay returns the first result, whatever the balance is now
            return replayed
        if reverses is not None and LedgerTransaction.objects.filter(reverses=reverses).exists():
            raise AlreadyReversed()
        raise InsufficientFunds()
    now = timezone.now()
    # One statement instead of check, savepoint, insert: a replay or a second reversal (a concurrent twin
    # included: PostgreSQL waits for it to commit) inserts nothing and returns no id.
    with connection.cursor() as cursor:
        cursor.execute(INSERT_TRANSACTION, [kind, source, external_id, player.pk if player else None, currency, amount,
                                            payment.pk if payment else None, reverses.pk if reverses else None, now,
                                            actor.pk if actor else None, reason])
        inserted = cursor.fetchone()
    if inserted is None:
        if replayed := replay_or_none():
            return replayed
        if reverses is not None:
            raise AlreadyReversed()
        raise RuntimeError(f"ledger transaction {source}/{external_id} was neither inserted nor found")
    ledger_tx = LedgerTransaction(
        pk=inserted[0], kind=kind, source=source, external_id=external_id, player=player, currency=currency,
        amount=amount, payment=payment, reverses=reverses, created_at=now, actor=actor, reason=reason,
    )
    ledger_tx._state.adding, ledger_tx._state.db = False, connection.alias
    params = []
    for account, delta in legs:
        account.balance += delta
        account.updated_at = now
        params += [account.pk, delta, account.balance]
    # The entries and the new cached balances in one round trip: this runs on every bet and payment.
    legs_sql = ", ".join(["(%s::bigint, %s::numeric, %s::numeric)"] * len(legs))
    with connection.cursor() as cursor:
        cursor.execute(POST_ENTRIES.format(legs=legs_sql), [*params, ledger_tx.pk, currency, now])
    return Posted(ledger_tx, True)


def _check_legs(legs: Sequence[tuple[Account, Decimal]], currency: str) -> None:
    """Programming errors, caught before the database would refuse them at commit."""
    if len(legs) < 2:
        raise ValueError("a transaction needs at least two legs")
    if len({account.pk for account, _ in legs}) != len(legs):
        raise ValueError("each account appears once per transaction")
    quantum = currencies.quantum(currency)
    for account, delta in legs:
        if account.currency != currency:
            raise ValueError(f"account #{account.pk} holds {account.currency}, not {currency}")
        if delta == 0 or delta != delta.quantize(quantum):
            raise ValueError(f"leg amount {delta} is zero or finer than {currency} allows")
    if sum(delta for _, delta in legs) != 0:
        raise ValueError("legs do not sum to zero")


def reversal_legs(original: LedgerTransaction, locked: dict[int, Account]) -> list[tuple[Account, Decimal]]:
    """The original's entries with their signs turned, on the locked accounts."""
    return [(locked[entry.account_id], -entry.amount) for entry in original.entries.order_by("id")]


def balances_event_record(*, player: Player, currency: str, real: Account | None = None,
                          bonus: Account | None = None) -> None:
    """USER_BALANCES_UPDATE with the player's real and bonus money, in the caller's transaction.

    Pass the accounts the caller holds locked; the others are read as committed.
    """
    if real is None or bonus is None:
        accounts = accounts_for_player(player, currency)
        real = real or accounts[AccountKind.REAL]
        bonus = bonus or accounts[AccountKind.BONUS]
    quantum = currencies.quantum(currency)
    crm_event_record(event_type=EventType.USER_BALANCES_UPDATE, player=player, data=balances_data(
        currency=currency, real_money=real.balance.quantize(quantum), bonus_money=bonus.balance.quantize(quantum),
        exchange_rate=currencies.exchange_rate(currency),
    ))
