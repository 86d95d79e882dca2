"""Reads shared by the API, the site, the admin and the CRM integration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Upper
from django.utils import timezone

from players.models import (
    BlockKind,
    LimitPeriod,
    Player,
    PlayerBlock,
    ResponsibleGamingLimit,
)

EXCLUSION_KINDS = (BlockKind.SELF_EXCLUSION, BlockKind.TIMEOUT)


def player_get(player_id) -> Player | None:
    try:
        return Player.objects.select_related("brand").get(pk=int(player_id))
    except (ValueError, TypeError, OverflowError, Player.DoesNotExist):
        return None


def player_search(query: str, queryset: QuerySet | None = None) -> QuerySet:
    """Find players the way support agents search: each form of query uses one index.

    - digits: the id, or a mobile number;
    - contains '@': the exact e-mail;
    - anything else: username prefix, or last name prefix (case-insensitive).
    """
    queryset = Player.objects.all() if queryset is None else queryset
    query = query.strip()
    if not query:
        return queryset
    if query.isdigit():
        by_id = Q(pk=int(query)) if len(query) <= 18 else Q(pk__in=[])
        return queryset.filter(by_id | Q(mobile=query))
    if "@" in query:
        return queryset.filter(email=query.lower())
    upper = query.upper()
    return queryset.annotate(username_upper=Upper("username"), last_name_upper=Upper("last_name")).filter(
        Q(username_upper__startswith=upper) | Q(last_name_upper__startswith=upper)
    )


@dataclass(frozen=True)
class BlockFlags:
    is_blocked: bool
    is_excluded: bool
    blocked_note: str
    excluded_note: str


def player_block_flags(player: Player, at: datetime | None = None) -> BlockFlags:
    """The effective flags, derived from the blocks active at `at`."""
    active = list(PlayerBlock.objects.active(at).filter(player=player).order_by("-starts_at"))
    blocked = [block for block in active if block.kind == BlockKind.OPERATOR]
    excluded = [block for block in active if block.kind in EXCLUSION_KINDS]
    return BlockFlags(
        is_blocked=bool(blocked),
        is_excluded=bool(excluded),
        blocked_note=blocked[0].reason if blocked else "",
        excluded_note=excluded[0].reason if excluded else "",
    )


def players_with_active_block(kinds, at: datetime | None = None) -> QuerySet:
    active = PlayerBlock.objects.active(at or timezone.now()).filter(player=OuterRef("pk"), kind__in=kinds)
    return Player.objects.filter(Exists(active))


def players_blocked(at: datetime | None = None) -> QuerySet:
    return players_with_active_block([BlockKind.OPERATOR], at)


def players_excluded(at: datetime | None = None) -> QuerySet:
    return players_with_active_block(list(EXCLUSION_KINDS), at)


@dataclass(frozen=True)
class LimitView:
    kind: str
    period: str
    value: object
    pending_value: object
    pending_removal: bool
    pending_effective_at: datetime | None


def player_limits(player: Player, at: datetime | None = None) -> list[LimitView]:
    """Every limit of the player as in force at `at`, with any still-pending change."""
    at = at or timezone.now()
    views = []
    for limit in ResponsibleGamingLimit.objects.filter(player=player).order_by("kind", "period"):
        due = limit.pending_effective_at is not None and limit.pending_effective_at <= at
        value = limit.value_at(at)
        if value is None and (due or limit.pending_effective_at is None):
            continue
        views.append(LimitView(
            kind=limit.kind, period=limit.period, value=value,
            pending_value=None if due else limit.pending_value,
            pending_removal=False if due else limit.pending_removal,
            pending_effective_at=None if due else limit.pending_effective_at,
        ))
    return views


def player_limit_value(player: Player, kind: str, period: str = LimitPeriod.NONE, at: datetime | None = None):
    """The value in force of one limit, or None when there is none (used by wallet and games)."""
    limit = ResponsibleGamingLimit.objects.filter(player=player, kind=kind, period=period).first()
    return limit.value_at(at) if limit else None


