"""The seamless wallet's operations: what a provider's authenticate, balance, bet, win, rollback and
bet-and-win calls do.

Every money call runs in one transaction, in one lock order: the game session row, then the player's
real and bonus accounts together with their shard of the house game-settlement account (one query,
id order: `wallet.services.game_play.game_accounts_lock`). Under those locks it looks up the provider's
transaction id: a retry gets the stored first answer, the same id with other content is
DUPLICATE_TRANSACTION. Then it decides, writes its round, its `GameTransaction` (the idempotency
record, with the answer) and the CASINO event, and books the money. A refusal writes nothing, except
that a session found overdue is ended (its own state change, committed) before the bet is refused,
and a rollback of an unknown bet is remembered. Bets and wins run their own statements in SQL
(`hot_sql`); rollbacks and refusals use the ORM.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from crm.fasttrack.events import CASINO_APPROVED, CASINO_BET, CASINO_ROLLBACK, CASINO_WIN, casino_data
from crm.models import EventType
from crm.services import crm_event_record
from games import exceptions as errors
from games.models import GameRound, GameSession, GameTransaction, SessionStatus, TransactionKind, Vendor
from games.selectors import game_cached, session_reality_check, token_hash
from games.services import fast_path, hot_sql
from games.services.sessions import (
    money_limits_check,
    play_limits,
    player_may_play,
    session_end_in_lock,
    session_overdue,
)
from players.models import Player
from wallet import currencies
from wallet.exceptions import InsufficientFunds as WalletInsufficientFunds
from wallet.services import game_play
from wallet.services.game_play import Movement, PlayerAccounts

# Provider ids become part of the ledger's external id (`<vendor>:<id>`, at most 100 characters).
PROVIDER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,58}$")
MAX_DIGITS = 15
# Unique keys two concurrent twins can race to: the loser runs again and answers like a retry.
RACE_CONSTRAINTS = {"game_tx_vendor_external_unique", "game_round_vendor_round_unique", "game_tx_rollback_once"}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict


@dataclass
class Call:
    """One provider call holding its locks: the session, then the player's accounts."""

    vendor: Vendor
    session: GameSession
    player: Player
    accounts: PlayerAccounts
    now: datetime

    @property
    def currency(self) -> str:
        return self.session.currency


# ---------------------------------------------------------------------------------------------
# Input


def provider_id(value, field: str) -> str:
    if not isinstance(value, str) or not PROVIDER_ID.match(value):
        raise errors.InvalidRequest(fields={field: ["Use 1-59 characters: letters, digits, '.', '_', ':' or '-'."]})
    return value


def amount_parse(value, currency: str, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """An exact amount in the currency's minor units: a decimal string or a JSON number read as a Decimal."""
    def refuse(message: str):
        return errors.InvalidRequest(fields={field: [message]})

    if isinstance(value, bool | float) or value is None:
        raise refuse('Send the amount as a decimal string or number, e.g. "1.50".')
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise refuse("Enter a number.") from None
    if not amount.is_finite() or amount < 0 or (amount == 0 and not allow_zero):
        raise refuse("Enter an amount of zero or more." if allow_zero else "Enter an amount above zero.")
    if amount.adjusted() >= MAX_DIGITS - currencies.minor_units(currency):
        raise refuse("The amount is too large.")
    exact = amount.quantize(currencies.quantum(currency))
    if exact != amount:
        raise refuse(f"{currency} amounts have at most {currencies.minor_units(currency)} decimal places.")
    return exact


def _fingerprint(*parts) -> str:
    return hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()


def money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(currencies.quantum(currency)):f}"


def balance_body(currency: str, real: Decimal, bonus: Decimal) -> dict:
    return {"currency": currency, "balance": money(real + bonus, currency), "real_balance": money(real, currency),
            "bonus_balance": money(bonus, currency)}


def balance_of(player: Player) -> dict:
    """The balance part of an answer, as committed (error answers use it)."""
    real, bonus = game_play.game_balances(player=player, currency=player.currency)
    return balance_body(player.currency, real, bonus)


# ---------------------------------------------------------------------------------------------
# Locks and idempotency


def _session_locked(vendor: Vendor, token) -> GameSession:
    """The session row locked, with its player and game, and whether the player has any active block or
    any loss or wager limit row: the common player with neither costs no further query."""
    if not isinstance(token, str) or not token:
        raise errors.InvalidToken()
    session = hot_sql.session_lock(token_hash=token_hash(token), now=timezone.now())
    game = game_cached(session.game_id) if session is not None else None
    if game is None or game.vendor_id != vendor.pk:
        raise errors.InvalidToken()
    session.game = game
    return session


def _call(vendor: Vendor, token) -> Call:
    """Take the call's locks in the one order: the session row, then the player's accounts."""
    session = _session_locked(vendor, token)
    accounts = game_play.game_accounts_lock(player=session.player, currency=session.currency)
    return Call(vendor=vendor, session=session, player=session.player, accounts=accounts, now=timezone.now())


def _currency(call: Call, currency) -> None:
    if currency != call.currency:
        raise errors.CurrencyMismatch(f"The session plays in {call.currency}.", player=call.player)


def _replay(call: Call, transaction_id: str, fingerprint: str, *, bet: bool = False) -> Answer | None:
    """The first answer when this transaction id was seen; DUPLICATE when its content differs.

    For a bet, also refuses one whose rollback came first (TRANSACTION_ROLLED_BACK).
    """
    seen = hot_sql.seen(vendor_id=call.vendor.pk, transaction_id=transaction_id, bet=bet)
    for row in seen:
        if row.external_id == transaction_id:
            if row.request_hash != fingerprint:
                raise errors.DuplicateTransaction(player=call.player)
            return Answer(row.response["status"], row.response["body"])
    if seen:
        raise errors.TransactionRolledBack(player=call.player)
    return None


def _activity_id(vendor: Vendor, transaction_id: str) -> str:
    return f"{vendor.code}:{transaction_id}"


def _record(call: Call, *, kind: str, transaction_id: str, fingerprint: str, movement: Movement | None,
            game_round: GameRound | None, answer: Answer, reference_id: str = "") -> GameTransaction:
    return GameTransaction.objects.create(
        vendor=call.vendor, external_id=transaction_id, kind=kind, player=call.player, session=call.session,
        round=game_round, currency=call.currency, amount=movement.amount if movement else 0,
        real_amount=movement.real if movement else 0, bonus_amount=movement.bonus if movement else 0,
        reference_id=reference_id, request_hash=fingerprint,
        response={"status": answer.status, "body": answer.body}, created_at=call.now,
    )


def _casino_event(call: Call, *, activity_id: str, round_id: str, casino_type: str, status: str, movement: Movement,
                  balance_after: Decimal, is_round_end: bool, meta: dict | None = None) -> None:
    game = call.session.game
    crm_event_record(event_type=EventType.CASINO, player=call.player, at=call.now, data=casino_data(
        activity_id=activity_id, round_id=round_id, casino_type=casino_type, status=status,
        amount=movement.amount, real_amount=movement.real, bonus_amount=movement.bonus, currency=call.currency,
        exchange_rate=currencies.exchange_rate(call.currency), game_id=game.code, game_name=game.name,
        game_type=game.game_type, vendor_id=call.vendor.code, vendor_name=call.vendor.name,
        is_round_end=is_round_end, balance_before=movement.balance_before, balance_after=balance_after, meta=meta,
    ))


def _touch(call: Call) -> None:
    """Play keeps an active session alive: the idle expiry moves, never past the session-time limit."""
    session = call.session
    if session.is_active:
        session.last_activity_at = call.now
        idle_end = call.now + timedelta(minutes=settings.GAME_SESSION_IDLE_MINUTES)
        session.expires_at = min(idle_end, session.limit_ends_at) if session.limit_ends_at else idle_end


def _touch_session(call: Call, *, bet: Decimal = Decimal(0)) -> None:
    """Save the session's activity and a change of its bet total (the ORM path, for refunds)."""
    _touch(call)
    call.session.total_bet += bet
    call.session.save(update_fields=["total_bet", "last_activity_at", "expires_at"])


def _ledger_id(call: Call, transaction_id: str) -> str:
    return f"{call.vendor.code}:{transaction_id}"


def _with_reality_check(call: Call, answer: Answer) -> Answer:
    check = session_reality_check(call.session, call.now)
    if check is None or not check.due:
        return answer
    return Answer(answer.status, answer.body | {"reality_check": {
        "due": True, "minutes_played": check.minutes_played, "interval_minutes": check.interval_minutes,
        "total_bet": money(check.total_bet, call.currency), "total_win": money(check.total_win, call.currency),
    }})


def _atomic_with_retry(operation):
    """Run `operation` in a transaction; on a unique-key race with a concurrent twin, run it once more.

    Two requests with the same transaction id for the same session are serialised by the session
    lock; only twins arriving through different sessions of one player can race to the insert, and
    the second run then finds the first one's row and answers like a retry.
    """
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return operation()
        except IntegrityError as error:
            constraint = getattr(getattr(error.__cause__, "diag", None), "constraint_name", None)
            if constraint not in RACE_CONSTRAINTS:
                raise
            if attempt == 2:
                raise errors.InvalidRequest("The round or transaction id is already used.") from None
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# Steps, run under the call's locks


def _bet_step(call: Call, *, transaction_id: str, round_id: str, amount: Decimal) -> Answer:
    fingerprint = _fingerprint("BET", call.player.pk, round_id, amount, call.currency)
    replay = _replay(call, transaction_id, fingerprint, bet=True)
    if replay is not None:
        return replay
    if not call.session.is_active:
        raise errors.SessionExpired(player=call.player)
    if session_overdue(call.session, call.now) is not None:
        raise _SessionOverdue()
    player_may_play(call.player, call.now, blocks_possible=call.session.player_has_blocks)
    game = call.session.game
    if not game.enabled:
        raise errors.GameUnavailable("This game is not available right now.", player=call.player)
    if call.session.player_has_money_limits:
        money_limits_check(player=call.player, limits=play_limits(call.player, call.now), amount=amount,
                           now=call.now)
    try:
        movement = game_play.bet_split(call.accounts, amount)
    except WalletInsufficientFunds:
        raise errors.InsufficientFunds(player=call.player) from None

    balance_after = movement.balance_before - amount
    answer = Answer(200, {
        "status": "OK", "transaction_id": transaction_id, "round_id": round_id, "player_id": call.player.user_id,
        "amount": money(amount, call.currency), "real_amount": money(movement.real, call.currency),
        "bonus_amount": money(movement.bonus, call.currency),
        **balance_body(call.currency, movement.real_before - movement.real, movement.bonus_before - movement.bonus),
    })
    _touch(call)
    created = hot_sql.bet_write(session=call.session, vendor_id=call.vendor.pk, transaction_id=transaction_id,
                                round_id=round_id, amount=amount, real=movement.real, bonus=movement.bonus,
                                fingerprint=fingerprint, answer={"status": answer.status, "body": answer.body},
                                now=call.now)
    if created is None:
        game_round = GameRound.objects.get(vendor=call.vendor, round_id=round_id)
        if game_round.player_id != call.player.pk:
            raise errors.InvalidRequest("This round id belongs to another player.", player=call.player)
        raise errors.RoundClosed(player=call.player)
    call.session.total_bet += amount
    call.session.rounds += int(created)
    _casino_event(call, activity_id=_activity_id(call.vendor, transaction_id), round_id=round_id,
                  casino_type=CASINO_BET, status=CASINO_APPROVED, movement=movement, balance_after=balance_after,
                  is_round_end=False)
    try:
        game_play.game_bet_post(accounts=call.accounts, movement=movement,
                                external_id=_ledger_id(call, transaction_id))
    except WalletInsufficientFunds:  # the split was computed under the same locks; kept as a backstop
        raise errors.InsufficientFunds(player=call.player) from None
    return answer


def _win_step(call: Call, *, transaction_id: str, round_id: str, amount: Decimal, round_closed: bool) -> Answer:
    fingerprint = _fingerprint("WIN", call.player.pk, round_id, amount, call.currency, round_closed)
    replay = _replay(call, transaction_id, fingerprint)
    if replay is not None:
        return replay
    movement = game_play.win_split(call.accounts, amount)
    answer = Answer(200, {
        "status": "OK", "transaction_id": transaction_id, "round_id": round_id, "player_id": call.player.user_id,
        "amount": money(amount, call.currency), "round_closed": round_closed,
        **balance_body(call.currency, movement.real_before + amount, movement.bonus_before),
    })
    _touch(call)
    written = hot_sql.win_write(session=call.session, vendor_id=call.vendor.pk, transaction_id=transaction_id,
                                round_id=round_id, amount=amount, closes=round_closed, fingerprint=fingerprint,
                                answer={"status": answer.status, "body": answer.body}, now=call.now)
    if not written:
        if GameRound.objects.filter(vendor=call.vendor, round_id=round_id, player=call.player).exists():
            raise errors.RoundClosed(player=call.player)
        raise errors.RoundNotFound(player=call.player)
    call.session.total_win += amount
    _casino_event(call, activity_id=_activity_id(call.vendor, transaction_id), round_id=round_id,
                  casino_type=CASINO_WIN, status=CASINO_APPROVED, movement=movement,
                  balance_after=movement.balance_before + amount, is_round_end=round_closed)
    if amount > 0:
        game_play.game_win_post(accounts=call.accounts, movement=movement, external_id=_ledger_id(call, transaction_id))
    return answer


class _SessionOverdue(Exception):
    """Raised inside the transaction to leave it; the session is then ended in its own transaction."""


# ---------------------------------------------------------------------------------------------
# Operations


def _session_read(vendor: Vendor, token) -> GameSession:
    if not isinstance(token, str) or not token:
        raise errors.InvalidToken()
    session = GameSession.objects.select_related("player", "game").filter(token_hash=token_hash(token)).first()
    if session is None or session.game.vendor_id != vendor.pk:
        raise errors.InvalidToken()
    return session


def seamless_authenticate(*, vendor: Vendor, token) -> Answer:
    """Token -> player, currency and balance. Locks nothing. Raises InvalidToken, SessionExpired, PlayerBlocked."""
    session = _session_read(vendor, token)
    now = timezone.now()
    if not session.is_active or session_overdue(session, now) is not None:
        raise errors.SessionExpired(player=session.player)
    player_may_play(session.player, now)
    player = session.player
    return Answer(200, {"status": "OK", "player_id": player.user_id, "session_id": str(session.pk),
                        "game_id": session.game.code, "country": player.country, "language": player.language,
                        **balance_of(player)})


def seamless_balance(*, vendor: Vendor, token) -> Answer:
    """The player's balance, also for an ended session. Locks nothing. Raises InvalidToken."""
    session = _session_read(vendor, token)
    return Answer(200, {"status": "OK", "player_id": session.player.user_id, **balance_of(session.player)})


def _end_overdue_session(vendor: Vendor, token: str) -> errors.GamesError:
    """End the session that ran out (its own transaction, with its event) and say why the bet is refused."""
    with transaction.atomic():
        session = _session_locked(vendor, token)
        status = (session_overdue(session, timezone.now()) or (session.status, ""))[0]
        session_end_in_lock(session, timezone.now())
    if status == SessionStatus.LIMIT_REACHED:
        return errors.LimitReached("Your session-time limit is reached.", player=session.player)
    return errors.SessionExpired(player=session.player)


def seamless_fast_call(operation: str, *, vendor: Vendor, **arguments) -> fast_path.FastCall | None:
    """The one-statement booking of a bet, win or bet-win call (games.services.fast_path), ready to run, or
    None when the call needs the full service. Raises InvalidRequest for ids the service refuses. The
    services below run it on Django's connection; the wallet server (games/seamless/server.py) on its own."""
    if not fast_path.fast_path_on():
        return None
    ids = {name: provider_id(arguments[name], name) for name in ("transaction_id", "round_id") if name in arguments}
    match operation:
        case "bet":
            return fast_path.bet_call(vendor=vendor, **(arguments | ids))
        case "win":
            return fast_path.win_call(vendor=vendor, **({"round_closed": True} | arguments | ids))
        case "bet-win":
            bet_id, win_id, round_id = _bet_win_ids(arguments["bet_transaction_id"], arguments["win_transaction_id"],
                                                    arguments["round_id"])
            call = fast_path.bet_win_call(vendor=vendor, **(arguments | {
                "bet_transaction_id": bet_id, "win_transaction_id": win_id, "round_id": round_id}))
            return call and replace(call, finish=lambda answers: _bet_win_body(
                answers["bet"], answers["win"], bet_id=bet_id, win_id=win_id))
    return None


def _fast_answer(operation: str, *, vendor: Vendor, **arguments) -> Answer | None:
    call = seamless_fast_call(operation, vendor=vendor, **arguments)
    body = None if call is None else fast_path.fast_run(call)
    return None if body is None else Answer(200, body)


def _bet_win_ids(bet_transaction_id, win_transaction_id, round_id) -> tuple[str, str, str]:
    bet_id = provider_id(bet_transaction_id, "bet_transaction_id")
    win_id = provider_id(win_transaction_id, "win_transaction_id")
    if bet_id == win_id:
        raise errors.InvalidRequest(fields={"win_transaction_id": ["The win needs its own transaction id."]})
    return bet_id, win_id, provider_id(round_id, "round_id")


def seamless_bet(*, vendor: Vendor, token, transaction_id, round_id, amount, currency) -> Answer:
    """Debit a bet: real money first, then bonus money. Idempotent by the provider's transaction id.

    Locks the session, the player's accounts, then game settlement. Emits CASINO Bet and
    USER_BALANCES_UPDATE. Raises InvalidRequest, InvalidToken, CurrencyMismatch, DuplicateTransaction,
    TransactionRolledBack, SessionExpired, PlayerBlocked, GameUnavailable, LimitReached, RoundClosed,
    InsufficientFunds.
    """
    transaction_id = provider_id(transaction_id, "transaction_id")
    round_id = provider_id(round_id, "round_id")
    if answer := _fast_answer("bet", vendor=vendor, token=token, transaction_id=transaction_id, round_id=round_id,
                              amount=amount, currency=currency):
        return answer

    def operation() -> Answer:
        call = _call(vendor, token)
        _currency(call, currency)
        value = amount_parse(amount, call.currency)
        return _with_reality_check(call, _bet_step(call, transaction_id=transaction_id, round_id=round_id,
                                                   amount=value))

    try:
        return _atomic_with_retry(operation)
    except _SessionOverdue:
        raise _end_overdue_session(vendor, token) from None


def seamless_win(*, vendor: Vendor, token, transaction_id, round_id, amount, currency,
                 round_closed: bool = True) -> Answer:
    """Credit a win (0 closes a losing round) to real money; also on an ended session.

    Same locks as a bet; emits CASINO Win (and USER_BALANCES_UPDATE when money moves). Raises
    InvalidRequest, InvalidToken, CurrencyMismatch, DuplicateTransaction, RoundNotFound, RoundClosed.
    """
    transaction_id = provider_id(transaction_id, "transaction_id")
    round_id = provider_id(round_id, "round_id")
    if answer := _fast_answer("win", vendor=vendor, token=token, transaction_id=transaction_id, round_id=round_id,
                              amount=amount, currency=currency, round_closed=round_closed):
        return answer

    def operation() -> Answer:
        call = _call(vendor, token)
        _currency(call, currency)
        value = amount_parse(amount, call.currency, allow_zero=True)
        return _win_step(call, transaction_id=transaction_id, round_id=round_id, amount=value,
                         round_closed=round_closed)

    return _atomic_with_retry(operation)


def _bet_win_body(bet: dict, win: dict, *, bet_id: str, win_id: str) -> dict:
    """The bet-win answer: the win's (balances after both), with both ids and amounts and the bet's split."""
    body = {key: value for key, value in win.items() if key not in {"transaction_id", "amount"}}
    return body | {"bet_transaction_id": bet_id, "win_transaction_id": win_id, "bet_amount": bet["amount"],
                   "win_amount": win["amount"], "real_amount": bet["real_amount"], "bonus_amount": bet["bonus_amount"]}


def seamless_bet_win(*, vendor: Vendor, token, bet_transaction_id, win_transaction_id, round_id, bet_amount,
                     win_amount, currency) -> Answer:
    """A bet and its win settled together, in one transaction: both or neither. Each part is idempotent
    by its own id, so a retry returns the same answer. The round is closed. Raises what bet and win raise.
    """
    bet_id, win_id, round_id = _bet_win_ids(bet_transaction_id, win_transaction_id, round_id)
    if answer := _fast_answer("bet-win", vendor=vendor, token=token, bet_transaction_id=bet_id,
                              win_transaction_id=win_id, round_id=round_id, bet_amount=bet_amount,
                              win_amount=win_amount, currency=currency):
        return answer

    def operation() -> Answer:
        call = _call(vendor, token)
        _currency(call, currency)
        bet_value = amount_parse(bet_amount, call.currency, field="bet_amount")
        win_value = amount_parse(win_amount, call.currency, field="win_amount", allow_zero=True)
        bet = _bet_step(call, transaction_id=bet_id, round_id=round_id, amount=bet_value)
        win = _win_step(call, transaction_id=win_id, round_id=round_id, amount=win_value, round_closed=True)
        body = _bet_win_body(bet.body, win.body, bet_id=bet_id, win_id=win_id)
        return _with_reality_check(call, Answer(200, body))

    try:
        return _atomic_with_retry(operation)
    except _SessionOverdue:
        raise _end_overdue_session(vendor, token) from None


def seamless_rollback(*, vendor: Vendor, token, transaction_id, bet_transaction_id) -> Answer:
    """Refund a bet, at most once; also on an ended session.

    A rollback of a bet we never took is remembered (answered TRANSACTION_NOT_FOUND, and so on every
    retry), so the bet is refused if it comes late. Same locks as a bet; emits CASINO Bet with status
    Rollback (the bet's activity_id) and USER_BALANCES_UPDATE. Raises InvalidRequest, InvalidToken,
    DuplicateTransaction, TransactionNotFound (the id is not one of this player's bets),
    TransactionRolledBack (already refunded by another rollback).
    """
    transaction_id = provider_id(transaction_id, "transaction_id")
    bet_id = provider_id(bet_transaction_id, "bet_transaction_id")

    def operation() -> Answer:
        call = _call(vendor, token)
        fingerprint = _fingerprint("ROLLBACK", call.player.pk, bet_id)
        replay = _replay(call, transaction_id, fingerprint)
        if replay is not None:
            return replay
        rows = list(GameTransaction.objects.filter(
            Q(external_id=bet_id) | Q(kind=TransactionKind.ROLLBACK, reference_id=bet_id), vendor=call.vendor,
        ).select_related("round", "session"))
        bet = next((row for row in rows if row.external_id == bet_id), None)
        if any(row.kind == TransactionKind.ROLLBACK and row.reference_id == bet_id for row in rows):
            raise errors.TransactionRolledBack("This bet was already rolled back.", player=call.player)
        if bet is not None and (bet.kind != TransactionKind.BET or bet.player_id != call.player.pk):
            raise errors.TransactionNotFound("No bet of this player has that id.", player=call.player)
        if bet is None:
            return _remember_rollback(call, transaction_id=transaction_id, bet_id=bet_id, fingerprint=fingerprint)
        return _refund(call, bet=bet, transaction_id=transaction_id, fingerprint=fingerprint)

    return _atomic_with_retry(operation)


def _remember_rollback(call: Call, *, transaction_id: str, bet_id: str, fingerprint: str) -> Answer:
    error = errors.TransactionNotFound("No bet with this id was taken; it will be refused if it arrives.")
    answer = Answer(error.status_code, {"error": error.message, "code": error.code, "transaction_id": transaction_id,
                                        "player_id": call.player.user_id,
                                        **balance_body(call.currency, call.accounts.real.balance,
                                                       call.accounts.bonus.balance)})
    _record(call, kind=TransactionKind.ROLLBACK, transaction_id=transaction_id, fingerprint=fingerprint,
            movement=None, game_round=None, answer=answer, reference_id=bet_id)
    return answer


def _refund(call: Call, *, bet: GameTransaction, transaction_id: str, fingerprint: str) -> Answer:
    refund = game_play.game_bet_refund_plan(accounts=call.accounts, bet_external_id=_ledger_id(call, bet.external_id))
    movement = refund.movement
    game_round = bet.round
    game_round.total_bet -= movement.amount
    game_round.save(update_fields=["total_bet"])
    if bet.session_id == call.session.pk:
        # The totals of another session of the player are left alone: locking that session here
        # would break the lock order (session, then accounts) and could deadlock.
        _touch_session(call, bet=-movement.amount)
    answer = Answer(200, {
        "status": "OK", "transaction_id": transaction_id, "bet_transaction_id": bet.external_id,
        "round_id": game_round.round_id, "player_id": call.player.user_id,
        "amount": money(movement.amount, call.currency), "real_amount": money(movement.real, call.currency),
        "bonus_amount": money(movement.bonus, call.currency),
        **balance_body(call.currency, movement.real_before + movement.real, movement.bonus_before + movement.bonus),
    })
    _record(call, kind=TransactionKind.ROLLBACK, transaction_id=transaction_id, fingerprint=fingerprint,
            movement=movement, game_round=game_round, answer=answer, reference_id=bet.external_id)
    _casino_event(call, activity_id=_activity_id(call.vendor, bet.external_id), round_id=game_round.round_id,
                  casino_type=CASINO_BET, status=CASINO_ROLLBACK, movement=movement,
                  balance_after=movement.balance_before + movement.amount, is_round_end=False,
                  meta={"rollback_transaction_id": transaction_id})
    game_play.game_bet_refund_post(accounts=call.accounts, refund=refund, external_id=_ledger_id(call, transaction_id))
    return answer
