"""Reads of the CRM outbox shared by the admin, the player page and the benchmark."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from crm.models import DeliveryStatus, OutboxEvent

COUNT_CAP = 10_000


@dataclass(frozen=True)
class OutboxHealth:
    oldest_pending_at: datetime | None
    lag_seconds: float  # age of the oldest PENDING event; 0 when nothing waits
    pending: int  # capped at COUNT_CAP (shown as "10000+")
    dead: int  # capped at COUNT_CAP
    count_cap: int = COUNT_CAP

    @property
    def pending_shown(self) -> str:
        return f"{self.count_cap}+" if self.pending >= self.count_cap else str(self.pending)

    @property
    def dead_shown(self) -> str:
        return f"{self.count_cap}+" if self.dead >= self.count_cap else str(self.dead)


def _capped_count(queryset: QuerySet) -> int:
    return len(queryset.order_by().values_list("pk", flat=True)[:COUNT_CAP])


def outbox_health(*, now: datetime | None = None) -> OutboxHealth:
    """The delivery lag and queue sizes. Index-only work: the oldest PENDING row is the first entry of
    `outbox_status` (status, -id) read backwards, and the counts stop at COUNT_CAP."""
    now = now or timezone.now()
    oldest = (OutboxEvent.objects.filter(status=DeliveryStatus.PENDING).order_by("id")
              .values_list("created_at", flat=True).first())
    return OutboxHealth(
        oldest_pending_at=oldest,
        lag_seconds=max((now - oldest).total_seconds(), 0.0) if oldest else 0.0,
        pending=_capped_count(OutboxEvent.objects.filter(status=DeliveryStatus.PENDING)),
        dead=_capped_count(OutboxEvent.objects.filter(status=DeliveryStatus.DEAD)),
    )


def outbox_search(term: str, queryset: QuerySet | None = None) -> QuerySet:
    """Find outbox rows the way staff look for them, each form of query on an index:
    digits: a player id; a UUID: the event id."""
    queryset = OutboxEvent.objects.all() if queryset is None else queryset
    term = term.strip()
    if not term:
        return queryset
    if term.isdigit() and len(term) <= 18:
        return queryset.filter(player_id=int(term))
    try:
        return queryset.filter(event_id=uuid.UUID(term))
    except ValueError:
        return queryset.none()


def player_timeline(player_id: int, *, limit: int = 30) -> list[OutboxEvent]:
    """A player's most recent CRM events, newest first (the `outbox_player_order` index)."""
    return list(OutboxEvent.objects.filter(player_id=player_id).order_by("-id")
                .only("id", "event_id", "event_type", "status", "attempts", "created_at", "delivered_at",
                      "next_attempt_at", "last_status_code", "last_error")[:limit])
