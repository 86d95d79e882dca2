from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from audit.services import audit_record
from crm.delivery import delivery_kick_on_commit
from crm.fasttrack.events import build_payload
from crm.models import DeliveryStatus, OutboxEvent
from igaming.errors import Conflict


def crm_event_record(*, event_type: str, player, data: dict | None = None, at=None) -> OutboxEvent:
    """Write one CRM event to the outbox, in the caller's transaction.

    Must be called inside the transaction of the business change that causes the event: the
    event then exists if and only if the change committed. Delivery starts after commit (a Celery
    kick published on commit; the periodic sweep if that kick is lost). Locks nothing; raises
    RuntimeError when called outside a transaction.
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
    delivery_kick_on_commit()
    return event


def _outbox_snapshot(event: OutboxEvent) -> dict:
    return {"status": event.status, "attempts": event.attempts, "next_attempt_at": event.next_attempt_at.isoformat(),
            "give_up_at": event.give_up_at.isoformat() if event.give_up_at else None}


def outbox_event_retry(*, event_pk: int, actor, reason: str) -> OutboxEvent:
    """Make a PENDING or DEAD event due now, restarting its retry schedule and its 72 h window.

    Locks the outbox row. Writes an audit row; kicks delivery after commit. Raises Conflict for a
    delivered event (replay it instead) and for an event a worker is sending at this moment.
    A revived DEAD event is its player's oldest PENDING one again, so their later events wait for it.
    """
    now = timezone.now()
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().get(pk=event_pk)
        if event.status == DeliveryStatus.DELIVERED:
            raise Conflict("This event was delivered; replay it to send it again.")
        if event.claimed_until is not None and event.claimed_until > now:
            raise Conflict("A worker is sending this event right now; look again in a moment.")
        before = _outbox_snapshot(event)
        event.status = DeliveryStatus.PENDING
        event.attempts = 0
        event.next_attempt_at = now
        event.claimed_until = None
        event.give_up_at = now + timedelta(hours=settings.CRM_DELIVERY_GIVE_UP_HOURS)
        event.save(update_fields=["status", "attempts", "next_attempt_at", "claimed_until", "give_up_at"])
        audit_record(actor=actor, action="crm.event_retry", target=event, before=before,
                     after=_outbox_snapshot(event), reason=reason)
        delivery_kick_on_commit()
    return event


def outbox_event_replay(*, event_pk: int, actor, reason: str) -> OutboxEvent:
    """Send a DELIVERED event again, as a new outbox row with a new event_id and the same payload.

    A new row rather than a reset: the delivered row stays as the record of what was sent, and the
    receiver, which drops repeats of an `X-Event-Id`, does take the replay. The replay queues behind
    the player's current events. Locks the original row. Writes an audit row on the original; kicks
    delivery after commit. Raises Conflict unless the event was delivered.
    """
    with transaction.atomic():
        original = OutboxEvent.objects.select_for_update().get(pk=event_pk)
        if original.status != DeliveryStatus.DELIVERED:
            raise Conflict("Only a delivered event can be replayed; retry a pending or dead one.")
        replay = OutboxEvent.objects.create(event_type=original.event_type, player_id=original.player_id,
                                            payload=original.payload, replay_of=original)
        # Copy the stored jsonb itself: the loaded payload has its amounts as floats, the stored one exact.
        OutboxEvent.objects.filter(pk=replay.pk).update(
            payload=Subquery(OutboxEvent.objects.filter(pk=original.pk).values("payload")[:1]))
        replay.refresh_from_db(fields=["payload"])
        audit_record(actor=actor, action="crm.event_replay", target=original,
                     after={"replay_id": replay.pk, "replay_event_id": str(replay.event_id)}, reason=reason)
        delivery_kick_on_commit()
    return replay
