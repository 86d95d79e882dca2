"""The money side of game play: bets, wins and bet refunds, booked on the wallet's ledger.

A bet moves money from the player's real money first, then bonus money, to the house game-settlement
account; a win moves money from game settlement to the player's real money; a refund reverses a bet
exactly (each part back where it came from), at most once (the ledger's `reverses` is unique).
Every posting emits USER_BALANCES_UPDATE. The games app calls these inside its own transaction,
which also writes its round, its idempotency record and the CASINO event.

Locks: `game_accounts_lock` takes, in one query and in id order, the player's real and bonus accounts
and the player's shard of game settlement (`ledger.accounts_lock_for`). Every money call of a player
takes these locks first, so a player's bets, wins and refunds apply one at a time, while players on
other house shards do not wait for each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from crm.fasttrack.events import balances_data
from crm.models import EventType
from crm.services import crm_event_record
from players.models import Player
from wallet import currencies
from wallet.exceptions import InsufficientFunds
from wallet.models import Account, AccountKind, LedgerTransaction, TransactionKind, TransactionSource
from wallet.services.ledger import accounts_lock_for, ledger_post

GAME_BET = TransactionKind.GAME_BET
GAME_WIN = TransactionKind.GAME_WIN
GAME_REFUND = TransactionKind.GAME_REFUND


@dataclass
class PlayerAccounts:
    """The player's real and bonus accounts in one currency and their game-settlement shard, all locked."""

    player: Player
    currency: str
    real: Account
    bonus: Account
    house: Account

    @property
    def total(self) -> Decimal:
        return self.real.balance + self.bonus.balance


@dataclass(frozen=True)
class Movement:
    """One bet, win or refund: its parts and the player's balances before it."""

    amount: Decimal
    real: Decimal
    bonus: Decimal
    real_before: Decimal
    bonus_before: Decimal

    @property
    def balance_before(self) -> Decimal:
        return self.real_before + self.bonus_before


def game_accounts_lock(*, player: Player, currency: str) -> PlayerAccounts:
    """Lock the player's real and bonus accounts in `currency` and their game-settlement shard (created on
    first use), in one query, in id order. Must run inside the caller's transaction."""
    locked = accounts_lock_for(player=player, currency=currency, player_kinds=(AccountKind.REAL, AccountKind.BONUS),
                               house_kinds=(AccountKind.GAME_SETTLEMENT,))
    return PlayerAccounts(player=player, currency=currency, real=locked[AccountKind.REAL],
                          bonus=locked[AccountKind.BONUS], house=locked[AccountKind.GAME_SETTLEMENT])


def bet_split(accounts: PlayerAccounts, amount: Decimal) -> Movement:
    """How a bet of `amount` is paid: real money first, then bonus money. Raises InsufficientFunds."""
    real_before, bonus_before = accounts.real.balance, accounts.bonus.balance
    if amount > real_before + bonus_before:
        raise InsufficientFunds()
    real = min(amount, real_before)
    return Movement(amount=amount, real=real, bonus=amount - real, real_before=real_before, bonus_before=bonus_before)


def win_split(accounts: PlayerAccounts, amount: Decimal) -> Movement:
    """A win is paid in real money."""
    return Movement(amount=amount, real=amount, bonus=Decimal(0), real_before=accounts.real.balance,
                    bonus_before=accounts.bonus.balance)


def _post(accounts: PlayerAccounts, *, kind: str, external_id: str, movement: Movement, sign: int,
          reverses: LedgerTransaction | None = None) -> LedgerTransaction:
    """Book the movement (sign -1 takes from the player, +1 gives) and emit the balances event."""
    legs = [(account, sign * part) for account, part in ((accounts.real, movement.real),
                                                          (accounts.bonus, movement.bonus)) if part]
    legs.append((accounts.house, -sign * movement.amount))
    posted = ledger_post(kind=kind, source=TransactionSource.GAMES, external_id=external_id, player=accounts.player,
                         currency=accounts.currency, amount=movement.amount, legs=legs, reverses=reverses)
    if not posted.created:
        # The games app checks its own idempotency record first, under the same locks; a ledger row
        # without it means the two disagree, which must not pass silently.
        raise RuntimeError(f"ledger transaction {external_id} exists without its game transaction")
    quantum = currencies.quantum(accounts.currency)
    crm_event_record(event_type=EventType.USER_BALANCES_UPDATE, player=accounts.player, data=balances_data(
        currency=accounts.currency, real_money=accounts.real.balance.quantize(quantum),
        bonus_money=accounts.bonus.balance.quantize(quantum), exchange_rate=currencies.exchange_rate(accounts.currency),
    ))
    return posted.transaction


def game_bet_post(*, accounts: PlayerAccounts, movement: Movement, external_id: str) -> LedgerTransaction:
    """Book a bet split by `bet_split`: its real and bonus parts to game settlement.

    The caller holds the locks of `game_accounts_lock`. Emits USER_BALANCES_UPDATE. Raises
    InsufficientFunds (the database CHECK backs it up).
    """
    return _post(accounts, kind=GAME_BET, external_id=external_id, movement=movement, sign=-1)


def game_win_post(*, accounts: PlayerAccounts, movement: Movement, external_id: str) -> LedgerTransaction:
    """Book a win (amount above zero) from game settlement to real money. Same locks and events as a bet."""
    return _post(accounts, kind=GAME_WIN, external_id=external_id, movement=movement, sign=+1)


@dataclass(frozen=True)
class Refund:
    bet: LedgerTransaction
    movement: Movement


def game_bet_refund_plan(*, accounts: PlayerAccounts, bet_external_id: str) -> Refund:
    """What refunding a booked bet gives back: each part to the account it came from, read from the ledger.

    Raises LedgerTransaction.DoesNotExist for a bet the ledger does not hold.
    """
    bet = LedgerTransaction.objects.prefetch_related("entries").get(source=TransactionSource.GAMES,
                                                                       external_id=bet_external_id, kind=GAME_BET)
    entries = list(bet.entries.all())
    real = sum((-entry.amount for entry in entries if entry.account_id == accounts.real.pk), Decimal(0))
    bonus = sum((-entry.amount for entry in entries if entry.account_id == accounts.bonus.pk), Decimal(0))
    return Refund(bet=bet, movement=Movement(amount=real + bonus, real=real, bonus=bonus,
                                             real_before=accounts.real.balance, bonus_before=accounts.bonus.balance))


def game_bet_refund_post(*, accounts: PlayerAccounts, refund: Refund, external_id: str) -> LedgerTransaction:
    """Reverse the bet exactly (`reverses` points at it), at most once (AlreadyReversed).

    Same locks and events as a bet.
    """
    return _post(accounts, kind=GAME_REFUND, external_id=external_id, movement=refund.movement, sign=+1,
                 reverses=refund.bet)


def game_balances(*, player: Player, currency: str) -> tuple[Decimal, Decimal]:
    """The player's (real, bonus) money in `currency`, as committed. One query; locks nothing."""
    balances = dict(Account.objects.filter(player=player, currency=currency,
                                           kind__in=[AccountKind.REAL, AccountKind.BONUS])
                    .values_list("kind", "balance"))
    return balances.get(AccountKind.REAL, Decimal(0)), balances.get(AccountKind.BONUS, Decimal(0))
