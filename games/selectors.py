"""Reads shared by the launch API, the seamless-wallet API, the lobby pages and the admin."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from games.models import Game, GameSession, GameTransaction, TransactionKind, Vendor
from players.models import Player

_VENDOR_CACHE_SECONDS = 30.0
_vendors: dict[str, tuple[float, Vendor | None]] = {}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def vendor_for_code(code: str) -> Vendor | None:
    """The enabled vendor with this code. Cached in the process for 30 s: providers call on every bet,
    and a vendor changes (is disabled) rarely; a disabled vendor is refused within 30 s."""
    now = time.monotonic()
    cached = _vendors.get(code)
    if cached is not None and cached[0] > now:
        return cached[1]
    vendor = Vendor.objects.filter(code=code, enabled=True).first()
    _vendors[code] = (now + _VENDOR_CACHE_SECONDS, vendor)
    return vendor


_games: dict[int, tuple[float, Game | None]] = {}


def game_cached(game_id: int) -> Game | None:
    """The game with its vendor, cached in the process for 30 s like the vendors: every bet needs it, and
    a game that staff disable stops taking bets within 30 s."""
    now = time.monotonic()
    cached = _games.get(game_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    game = Game.objects.select_related("vendor").filter(pk=game_id).first()
    _games[game_id] = (now + _VENDOR_CACHE_SECONDS, game)
    return game


def vendor_cached(code: str) -> tuple[bool, Vendor | None]:
    """(whether the process's cache holds this code, fresh; the enabled vendor or None), with no database
    access: for the wallet server's event loop, which asks vendor_for_code on a thread when it misses."""
    cached = _vendors.get(code)
    if cached is None or cached[0] <= time.monotonic():
        return False, None
    return True, cached[1]


def vendor_cache_clear() -> None:
    _vendors.clear()
    _games.clear()


def game_catalog(*, country: str | None = None) -> QuerySet:
    """Enabled games of enabled vendors, without those restricted in `country` when given."""
    games = Game.objects.filter(enabled=True, vendor__enabled=True).select_related("vendor")
    if country:
        games = games.exclude(restricted_countries__contains=[country.upper()])
    return games.order_by("name", "id")


def game_get(game_id) -> Game | None:
    try:
        return Game.objects.select_related("vendor").get(pk=int(game_id))
    except (ValueError, TypeError, OverflowError, Game.DoesNotExist):
        return None


def session_for_player(player: Player, session_id) -> GameSession | None:
    try:
        return GameSession.objects.select_related("game", "game__vendor").get(pk=int(session_id), player=player)
    except (ValueError, TypeError, OverflowError, GameSession.DoesNotExist):
        return None


def player_sessions(player: Player) -> QuerySet:
    return GameSession.objects.filter(player=player).select_related("game", "game__vendor")


@dataclass(frozen=True)
class PlayTotals:
    wagered: Decimal  # bets less refunded bets
    won: Decimal

    @property
    def lost(self) -> Decimal:
        return self.wagered - self.won


def play_totals(player: Player, *, since: datetime) -> PlayTotals:
    """What the player bet (less refunds) and won since `since`, for the loss and wager limits. One query."""
    totals = GameTransaction.objects.filter(player=player, created_at__gte=since).aggregate(
        bets=Sum("amount", filter=Q(kind=TransactionKind.BET)),
        refunds=Sum("amount", filter=Q(kind=TransactionKind.ROLLBACK)),
        wins=Sum("amount", filter=Q(kind=TransactionKind.WIN)),
    )
    zero = Decimal(0)
    return PlayTotals(wagered=(totals["bets"] or zero) - (totals["refunds"] or zero), won=totals["wins"] or zero)


@dataclass(frozen=True)
class RealityCheck:
    """Shown to the player when due: how long they have played this session and its result."""

    due: bool
    minutes_played: int
    interval_minutes: int
    total_bet: Decimal
    total_win: Decimal
    next_at: datetime | None


def session_reality_check(session: GameSession, now: datetime) -> RealityCheck | None:
    """The session's reality check, or None when the player has not asked for one."""
    if not session.reality_check_minutes or session.reality_check_due_at is None:
        return None
    return RealityCheck(
        due=session.is_active and session.reality_check_due_at <= now,
        minutes_played=int((now - session.started_at).total_seconds() // 60),
        interval_minutes=session.reality_check_minutes,
        total_bet=session.total_bet, total_win=session.total_win, next_at=session.reality_check_due_at,
    )


def ledger_transaction_of(game_transaction: GameTransaction):
    """The wallet's ledger transaction that moved this call's money, or None (a win of 0, a remembered rollback)."""
    from wallet.models import LedgerTransaction, TransactionSource

    return LedgerTransaction.objects.filter(
        source=TransactionSource.GAMES,
        external_id=f"{game_transaction.vendor.code}:{game_transaction.external_id}").first()
