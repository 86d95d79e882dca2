from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from crm.fasttrack.events import build_payload
from crm.models import OutboxEvent


def crm_event_record(*, event_type: str, player, data: dict | None = None, at=None) -> OutboxEvent:
    """Write one CRM event to the outbox, in the caller's transaction.

    Must be called inside the transaction of the business change that causes the event: the
    event then exists if and only if the change committed. Delivery starts after commit.
    Locks nothing; raises RuntimeError when called outside a transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("crm_event_record() must run inside the business change's transaction")
    at = at or timezone.now()
    event = OutboxEvent.objects.create(
        event_type=event_type,
        player_id=player.pk,
        payload=build_payload(event_type, player=player, at=at, data=data),
        created_at=at,
    )
    return event
