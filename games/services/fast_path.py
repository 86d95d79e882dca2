"""The seamless wallet's fast path: the common bet and the common win, each in one SQL statement.

A provider's bet or win that is a plain first call which will be taken (an open session, a player who
plays freely, enough money, a new transaction id, ...) is booked by `games_bet_fast` /
`games_win_fast` (games/migrations/0004_seamless_fast_sql.py): the same rows, events and answer as
`games.services.play` writes, in one round trip, autocommitted, with plans the server keeps. Measured
on the bench machine, the Python path spent about 3.6 ms of database time and 5 ms of Python per call,
mostly compiling and planning its ten statements; this path is one statement.

Any other call gets None here, nothing written, and `play` handles it in full: the refusals and
special answers live only there. `GAME_WALLET_FAST_PATH=0` turns this path off.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from crm.delivery import delivery_kick_on_commit
from crm.fasttrack.events import rfc3339
from games import exceptions as errors
from games.models import Vendor
from games.selectors import token_hash
from games.services.sessions import PLAYABLE_STATUSES
from wallet import currencies


@dataclass(frozen=True)
class Statement:
    """A fast-path function and the names of its parameters, in order."""

    function: str
    parameters: tuple[str, ...]

    @cached_property
    def sql(self) -> str:
        """The call with psycopg2's named placeholders."""
        return f"SELECT {self.function}({', '.join(f'%({name})s' for name in self.parameters)})"

    @cached_property
    def numbered_sql(self) -> str:
        """The call with numbered placeholders ($1, $2, ...), for a server-side prepared statement."""
        return f"SELECT {self.function}({', '.join(f'${n}' for n in range(1, len(self.parameters) + 1))})"

    def values(self, params: dict) -> list:
        return [params[name] for name in self.parameters]

    @cached_property
    def signed(self) -> Statement:
        """The statement that also spends the request's nonce (games 0010): parameter "nonce" first."""
        return Statement(f"{self.function}_signed", ("nonce", *self.parameters))


_COMMON = ("vendor", "vendor_code", "vendor_name", "token_hash")
_TAIL = ("currency", "places", "rate", "now", "stamp", "idle")
BET = Statement("games_bet_fast", (*_COMMON, "transaction_id", "round_id", "amount", *_TAIL, "playable", "shards"))
WIN = Statement("games_win_fast", (*_COMMON, "transaction_id", "round_id", "amount", "round_closed", *_TAIL,
                                   "shards"))
BET_WIN = Statement("games_bet_win_fast", (*_COMMON, "bet_transaction_id", "win_transaction_id", "round_id",
                                           "bet_amount", "win_amount", *_TAIL, "playable", "shards"))


def _same(answer: dict) -> dict:
    return answer


@dataclass(frozen=True)
class FastCall:
    """One fast-path statement ready to run, and how its JSON result becomes the answer's body."""

    statement: Statement
    params: dict
    finish: Callable[[dict], dict] = _same

    def spending(self, nonce: str) -> FastCall:
        """This call, spending the request's nonce in the same statement. When the statement declines, it
        raises GF001 and the nonce stays unspent."""
        return FastCall(self.statement.signed, self.params | {"nonce": nonce}, self.finish)


DECLINED = "GF001"  # raised by the statement when the round turns out closed or another player's
_PLAYABLE = sorted(str(status) for status in PLAYABLE_STATUSES)


def _amount(amount, currency, *, allow_zero: bool) -> Decimal | None:
    from games.services.play import amount_parse

    if not isinstance(currency, str) or not currencies.is_supported(currency):
        return None
    try:
        return amount_parse(amount, currency, allow_zero=allow_zero)
    except errors.InvalidRequest:
        return None  # the full path refuses it, after the checks that come first there


def _params(vendor: Vendor, token: str, currency: str) -> dict:
    now = timezone.now()
    return {"vendor": vendor.pk, "vendor_code": vendor.code, "vendor_name": vendor.name,
            "token_hash": token_hash(token), "currency": currency, "places": currencies.minor_units(currency),
            "rate": currencies.exchange_rate(currency), "now": now, "stamp": rfc3339(now),
            "idle": timedelta(minutes=settings.GAME_SESSION_IDLE_MINUTES), "shards": settings.WALLET_HOUSE_SHARDS}


def _run(sql: str, params: dict) -> dict | None:
    """Run one fast statement; None when it declined or lost a race on a unique key (the full path
    then answers, as it does for a retry). Inside a caller's transaction it runs in a savepoint."""
    try:
        if connection.in_atomic_block:
            with transaction.atomic():
                answer = _execute(sql, params)
        else:
            answer = _execute(sql, params)
    except IntegrityError:
        return None
    except DatabaseError as error:
        if getattr(error.__cause__, "pgcode", None) == DECLINED:
            return None
        raise
    if answer is not None:
        delivery_kick_on_commit()
    return answer


def _execute(sql: str, params: dict) -> dict | None:
    """One statement on psycopg2's own cursor: Django's wrapper (query logging when DEBUG, execute
    wrappers) cost about 35 us per statement, measured, and this one runs on every provider call. Its
    errors still come out as Django's (wrap_database_errors), which the callers catch."""
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(sql, params)
        answer = cursor.fetchone()[0]
    return None if answer is None else json.loads(answer)  # Django reads jsonb as text


def fast_path_on() -> bool:
    return settings.GAME_WALLET_FAST_PATH


def fast_run(call: FastCall) -> dict | None:
    """Run a fast call on Django's connection: the answer's body, or None (take the full path)."""
    result = _run(call.statement.sql, call.params)
    return None if result is None else call.finish(result)


def _money_call(statement: Statement, *, vendor: Vendor, token, transaction_id: str, round_id: str, amount, currency,
                allow_zero: bool, **more) -> FastCall | None:
    if not isinstance(token, str) or not token:
        return None
    value = _amount(amount, currency, allow_zero=allow_zero)
    if value is None:
        return None
    return FastCall(statement, {**_params(vendor, token, currency), "transaction_id": transaction_id,
                                "round_id": round_id, "amount": value, **more})


def bet_call(*, vendor: Vendor, token, transaction_id: str, round_id: str, amount, currency) -> FastCall | None:
    """The bet's fast statement, or None when the input alone rules the fast path out."""
    return _money_call(BET, vendor=vendor, token=token, transaction_id=transaction_id, round_id=round_id,
                       amount=amount, currency=currency, allow_zero=False, playable=_PLAYABLE)


def win_call(*, vendor: Vendor, token, transaction_id: str, round_id: str, amount, currency,
             round_closed: bool) -> FastCall | None:
    """The win's fast statement, or None when the input alone rules the fast path out."""
    if not isinstance(round_closed, bool):
        return None
    return _money_call(WIN, vendor=vendor, token=token, transaction_id=transaction_id, round_id=round_id,
                       amount=amount, currency=currency, allow_zero=True, round_closed=round_closed)


def bet_win_call(*, vendor: Vendor, token, bet_transaction_id: str, win_transaction_id: str, round_id: str,
                 bet_amount, win_amount, currency) -> FastCall | None:
    """The bet-win's fast statement (its result: {"bet": ..., "win": ...}), or None when the input alone
    rules the fast path out."""
    if not isinstance(token, str) or not token:
        return None
    bet_value = _amount(bet_amount, currency, allow_zero=False)
    win_value = _amount(win_amount, currency, allow_zero=True)
    if bet_value is None or win_value is None:
        return None
    return FastCall(BET_WIN, {**_params(vendor, token, currency), "bet_transaction_id": bet_transaction_id,
                              "win_transaction_id": win_transaction_id, "round_id": round_id,
                              "bet_amount": bet_value, "win_amount": win_value, "playable": _PLAYABLE})
