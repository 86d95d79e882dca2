"""Game sessions: launch, close, expiry, session-time limits and reality checks.

A session starts when the player launches a game and ends once: closed by the player, expired after
GAME_SESSION_IDLE_MINUTES without play, or ended by the player's session-time limit. The start and
the end each reach Fast Track as a CUSTOM event (game_session_started / game_session_ended),
written in the transaction of the change.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crm.fasttrack.events import custom_data
from crm.models import EventType
from crm.services import crm_event_record
from games.exceptions import GameNotFound, GameUnavailable, LimitReached, PlayerBlocked, SessionNotFound
from games.models import Game, GameSession, SessionStatus
from games.selectors import game_get, play_totals, token_hash
from players.models import AccountStatus, LimitKind, LimitPeriod, Player
from players.selectors import player_block_flags, player_limits
from wallet import currencies
from wallet.services.payments import period_start

SESSION_STARTED = "game_session_started"
SESSION_ENDED = "game_session_ended"
PLAYABLE_STATUSES = {AccountStatus.ACTIVE, AccountStatus.PENDING}
MONEY_LIMIT_KINDS = (LimitKind.LOSS, LimitKind.WAGER)


@dataclass(frozen=True)
class Launch:
    session: GameSession
    token: str
    launch_url: str


@dataclass(frozen=True)
class PlayLimits:
    """The player's limits that bear on play, as in force now (one query)."""

    money: list[tuple[str, str, Decimal]]  # (kind, period, value) of loss and wager limits
    session_minutes: int | None
    reality_check_minutes: int | None


def play_limits(player: Player, now: datetime) -> PlayLimits:
    money, session_minutes, reality_minutes = [], None, None
    for limit in player_limits(player, at=now):
        if limit.value is None:
            continue
        if limit.kind in MONEY_LIMIT_KINDS:
            money.append((limit.kind, limit.period, Decimal(limit.value)))
        elif limit.kind == LimitKind.SESSION_TIME:
            session_minutes = int(limit.value)
        elif limit.kind == LimitKind.REALITY_CHECK:
            reality_minutes = int(limit.value)
    return PlayLimits(money=money, session_minutes=session_minutes, reality_check_minutes=reality_minutes)


PERIOD_WORDS = {LimitPeriod.DAY: "daily", LimitPeriod.WEEK: "weekly", LimitPeriod.MONTH: "monthly"}


def money_limits_check(*, player: Player, limits: PlayLimits, amount: Decimal, now: datetime) -> None:
    """Raise LimitReached when a bet of `amount` (0 at launch) could pass a loss or wager limit.

    A bet counts as lost until it wins: loss = bets - refunds - wins in the calendar period (UTC).
    The caller holds the player's account locks, so a player's concurrent bets are counted one by one.
    """
    totals_by_start: dict[datetime, object] = {}
    for kind, period, value in limits.money:
        start = period_start(period, now)
        totals = totals_by_start.get(start) or play_totals(player, since=start)
        totals_by_start[start] = totals
        used = totals.lost if kind == LimitKind.LOSS else totals.wagered
        if used + amount > value or (amount == 0 and used >= value):
            word = "loss" if kind == LimitKind.LOSS else "wager"
            raise LimitReached(f"Your {PERIOD_WORDS.get(period, '')} {word} limit of {value:f} "
                               f"{player.currency} is reached.", player=player)


def player_may_play(player: Player, now: datetime, *, blocks_possible: bool = True) -> None:
    """Raise PlayerBlocked unless the player's account is open and not blocked or excluded.

    `blocks_possible=False` says the caller already knows the player has no active block row.
    """
    if player.status not in PLAYABLE_STATUSES:
        raise PlayerBlocked("This account may not play.", player=player)
    if not blocks_possible:
        return
    flags = player_block_flags(player, at=now)
    if flags.is_blocked:
        raise PlayerBlocked("This account is blocked.", player=player)
    if flags.is_excluded:
        raise PlayerBlocked("This account is excluded from play (self-exclusion or time-out).", player=player)


def launch_url(game: Game, *, token: str, currency: str, language: str) -> str:
    query = urlencode({"token": token, "game": game.code, "currency": currency, "lang": language,
                       "lobby": f"{settings.SITE_URL.rstrip('/')}/lobby"})
    separator = "&" if "?" in game.vendor.launch_url else "?"
    return f"{game.vendor.launch_url}{separator}{query}"


def _session_event_data(session: GameSession) -> dict:
    game = session.game
    return {"session_id": str(session.pk), "game_id": game.code, "game_name": game.name,
            "game_type": game.game_type, "vendor_id": game.vendor.code, "vendor_name": game.vendor.name,
            "currency": session.currency}


def game_launch(*, player: Player, game_id, ip_address: str | None = None) -> Launch:
    """Start a game session for the player: checks, the session row, the provider's launch URL.

    Refuses (writing nothing) with GameNotFound, GameUnavailable (disabled, or restricted in the
    player's country, or an unsupported currency), PlayerBlocked, LimitReached (a loss or wager limit
    already used up). Locks nothing; emits CUSTOM game_session_started. Returns the token once: only
    its hash is stored.
    """
    now = timezone.now()
    game = game_get(game_id)
    if game is None:
        raise GameNotFound()
    if not game.enabled or not game.vendor.enabled:
        raise GameUnavailable("This game is not available right now.")
    if game.is_restricted_in(player.country):
        raise GameUnavailable("This game is not available in your country.")
    if not currencies.is_supported(player.currency):
        raise GameUnavailable("This game is not available in your currency.")
    player_may_play(player, now)
    limits = play_limits(player, now)
    money_limits_check(player=player, limits=limits, amount=Decimal(0), now=now)
    token = secrets.token_urlsafe(32)
    idle = timedelta(minutes=settings.GAME_SESSION_IDLE_MINUTES)
    limit_ends_at = now + timedelta(minutes=limits.session_minutes) if limits.session_minutes else None
    reality = limits.reality_check_minutes
    with transaction.atomic():
        session = GameSession.objects.create(
            player=player, game=game, vendor_id=game.vendor_id, token_hash=token_hash(token), currency=player.currency,
            started_at=now, last_activity_at=now, expires_at=min(filter(None, [now + idle, limit_ends_at])),
            limit_ends_at=limit_ends_at, reality_check_minutes=reality,
            reality_check_due_at=now + timedelta(minutes=reality) if reality else None, ip_address=ip_address,
        )
        crm_event_record(event_type=EventType.CUSTOM, player=player, at=now, data=custom_data(
            notification_type=SESSION_STARTED, data=_session_event_data(session)))
    return Launch(session=session, token=token,
                  launch_url=launch_url(game, token=token, currency=player.currency, language=player.language))


def _end(session: GameSession, *, status: str, reason: str, now: datetime) -> GameSession:
    """End a session the caller holds locked (no-op when already ended); emits game_session_ended."""
    if not session.is_active:
        return session
    session.status = status
    session.ended_at = now
    session.end_reason = reason
    session.save(update_fields=["status", "ended_at", "end_reason"])
    data = _session_event_data(session) | {
        "status": status, "reason": reason, "rounds": session.rounds,
        "duration_seconds": int((now - session.started_at).total_seconds()),
        "total_bet": session.total_bet, "total_win": session.total_win,
    }
    crm_event_record(event_type=EventType.CUSTOM, player=session.player, at=now,
                     data=custom_data(notification_type=SESSION_ENDED, data=data))
    return session


def session_overdue(session: GameSession, now: datetime) -> tuple[str, str] | None:
    """(status, reason) when an active session should have ended by now, else None."""
    if not session.is_active:
        return None
    if session.limit_ends_at is not None and session.limit_ends_at <= now:
        return SessionStatus.LIMIT_REACHED, "Session-time limit reached."
    if session.expires_at <= now:
        return SessionStatus.EXPIRED, "No play for too long."
    return None


def session_end_in_lock(session: GameSession, now: datetime) -> GameSession:
    """End an overdue session the caller holds locked (used by the wallet calls); no-op otherwise."""
    overdue = session_overdue(session, now)
    if overdue is not None:
        _end(session, status=overdue[0], reason=overdue[1], now=now)
    return session


def _lock(session_id, *, player: Player | None = None) -> GameSession:
    """Lock one session (of `player`, when given); SessionNotFound for a bad, unknown or foreign id."""
    try:
        session = (GameSession.objects.select_for_update(of=("self",))
                   .select_related("player", "game", "game__vendor").get(pk=int(session_id)))
    except (ValueError, TypeError, OverflowError, GameSession.DoesNotExist):
        raise SessionNotFound() from None
    if player is not None and session.player_id != player.pk:
        raise SessionNotFound()
    return session


def game_session_close(*, player: Player, session_id) -> GameSession:
    """The player closes a game. Locks the session; emits game_session_ended once (closing twice is fine).

    Raises SessionNotFound for another player's or an unknown session.
    """
    now = timezone.now()
    with transaction.atomic():
        session = _lock(session_id, player=player)
        if session_overdue(session, now) is not None:
            return session_end_in_lock(session, now)
        return _end(session, status=SessionStatus.CLOSED, reason="Closed by the player.", now=now)


def game_session_reality_check_ack(*, player: Player, session_id) -> GameSession:
    """The player saw the reality check and plays on: the next one is due an interval from now.

    Locks the session. Raises SessionNotFound.
    """
    now = timezone.now()
    with transaction.atomic():
        session = _lock(session_id, player=player)
        if session.is_active and session.reality_check_minutes and session.reality_check_due_at <= now:
            session.reality_check_due_at = now + timedelta(minutes=session.reality_check_minutes)
            session.save(update_fields=["reality_check_due_at"])
    return session


def game_sessions_expire(*, now: datetime | None = None, batch: int = 500) -> int:
    """End the active sessions that went idle or passed their session-time limit (the periodic sweep).

    Claims overdue sessions with FOR UPDATE SKIP LOCKED, so a session in the middle of a bet is left
    for the next run, and two sweeps never end the same session. Safe to run twice. Returns the count.
    """
    now = now or timezone.now()
    ended = 0
    while True:
        with transaction.atomic():
            # expires_at never passes limit_ends_at, so one condition finds both kinds of end. The open
            # sessions are walked in id order (index game_session_open); expires_at is not indexed, so
            # that the bets which move it are HOT updates.
            due = list(GameSession.objects.select_for_update(of=("self",), skip_locked=True)
                       .select_related("player", "game", "game__vendor")
                       .filter(status=SessionStatus.ACTIVE, expires_at__lte=now).order_by("pk")[:batch])
            for session in due:
                session_end_in_lock(session, now)
        ended += len(due)
        if len(due) < batch:
            return ended


def game_session_end_by_staff(*, session_id: int, actor, reason: str) -> GameSession:
    """Staff end a player's game session (e.g. on a compliance concern), with a mandatory reason.

    Locks the session; audited; emits game_session_ended. Raises PlayerInputInvalid without a reason,
    SessionNotFound for an unknown session. Ending an ended session changes nothing.
    """
    from audit.services import audit_record
    from players.exceptions import ReasonRequired

    if not reason.strip():
        raise ReasonRequired()
    now = timezone.now()
    with transaction.atomic():
        session = _lock(session_id)
        if not session.is_active:
            return session
        before = {"status": session.status}
        _end(session, status=SessionStatus.CLOSED, reason=f"Ended by staff: {reason.strip()}"[:200], now=now)
        audit_record(actor=actor, action="games.session_end", target=session, reason=reason, before=before,
                     after={"status": session.status})
    return session
