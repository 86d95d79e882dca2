"""The outbox screen: read-only rows, the delivery lag, search, and the retry / replay actions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEntry
from conftest import make_staff
from crm import selectors, services
from crm.models import DeliveryStatus, EventType, OutboxEvent
from crm.services import crm_event_record
from igaming.errors import Conflict
from players.tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CHANGELIST = "admin:crm_outboxevent_changelist"


def record(player, event_type=EventType.USER_UPDATE, **kwargs) -> OutboxEvent:
    with transaction.atomic():
        return crm_event_record(event_type=event_type, player=player, **kwargs)


def set_state(event: OutboxEvent, **fields) -> OutboxEvent:
    OutboxEvent.objects.filter(pk=event.pk).update(**fields)
    return OutboxEvent.objects.get(pk=event.pk)


def run_action(client, action: str, events, reason: str = "Fast Track lost the event"):
    return client.post(reverse(CHANGELIST), {"action": action, "_selected_action": [e.pk for e in events],
                                             "apply": "1", "reason": reason}, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def admin_staff(db):
    return make_staff("Admin")


def test_the_changelist_shows_the_lag_of_the_oldest_pending_event_and_the_queue_sizes(client, player, compliance):
    with time_machine.travel(T0, tick=False):
        set_state(record(player, at=T0 - timedelta(hours=2)), status=DeliveryStatus.DELIVERED)
        record(player, at=T0 - timedelta(minutes=5, seconds=7))
        record(player, at=T0 - timedelta(seconds=30))
        set_state(record(player, at=T0 - timedelta(seconds=10)), status=DeliveryStatus.DEAD)
        client.force_login(compliance)
        response = client.get(reverse(CHANGELIST))

    assert response.status_code == 200
    page = response.content.decode()
    assert '<span id="delivery-lag">5 min 7 s</span>' in page
    assert "Pending: 2" in page and "Dead-lettered: 1" in page
    assert len(response.context["cl"].result_list) == 4


def test_the_lag_is_zero_when_nothing_waits(player):
    assert selectors.outbox_health() == selectors.OutboxHealth(None, 0.0, 0, 0)
    set_state(record(player), status=DeliveryStatus.DELIVERED)
    health = selectors.outbox_health()
    assert (health.lag_seconds, health.pending, health.oldest_pending_at) == (0.0, 0, None)


def test_staff_find_rows_by_player_id_or_event_id_and_nothing_for_other_text(client, brand, compliance):
    alice, bob = PlayerFactory(brand=brand), PlayerFactory(brand=brand)
    alice_events = [record(alice) for _ in range(2)]
    bob_event = record(bob)
    client.force_login(compliance)

    def found(term):
        response = client.get(reverse(CHANGELIST), {"q": term})
        assert response.status_code == 200
        return sorted(event.pk for event in response.context["cl"].result_list)

    assert found(str(alice.pk)) == sorted(e.pk for e in alice_events)
    assert found(str(bob_event.event_id)) == [bob_event.pk]
    assert found("not-an-id") == []


def test_outbox_rows_are_read_only(client, player, admin_staff):
    event = record(player)
    client.force_login(admin_staff)

    assert client.get(reverse("admin:crm_outboxevent_change", args=[event.pk])).status_code == 200
    change_url = reverse("admin:crm_outboxevent_change", args=[event.pk])
    assert client.post(change_url, {"status": "DELIVERED"}).status_code == 403
    assert client.get(reverse("admin:crm_outboxevent_add")).status_code == 403
    assert client.post(reverse("admin:crm_outboxevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert OutboxEvent.objects.get(pk=event.pk).status == DeliveryStatus.PENDING


def test_retry_now_makes_a_dead_event_due_now_with_a_fresh_window_and_an_audit_row(client, player, admin_staff):
    event = set_state(record(player), status=DeliveryStatus.DEAD, attempts=71, last_error="HTTP 500: boom",
                      next_attempt_at=T0 - timedelta(days=1))
    assert not AuditEntry.objects.filter(target_type="crm.outboxevent").exists()
    client.force_login(admin_staff)

    with time_machine.travel(T0, tick=False):
        response = run_action(client, "retry_now", [event], reason="Fast Track fixed their intake")

    assert "Retry CRM events now: done for 1 of 1." in messages_of(response)
    event = OutboxEvent.objects.get(pk=event.pk)
    assert (event.status, event.attempts, event.next_attempt_at, event.give_up_at) == (
        DeliveryStatus.PENDING, 0, T0, T0 + timedelta(hours=72))
    [entry] = AuditEntry.objects.filter(target_type="crm.outboxevent", target_id=str(event.pk))
    assert (entry.action, entry.actor) == ("crm.event_retry", admin_staff)
    assert entry.reason == "Fast Track fixed their intake"
    assert (entry.before["status"], entry.before["attempts"]) == ("DEAD", 71)
    assert (entry.after["status"], entry.after["attempts"]) == ("PENDING", 0)


def test_retry_now_asks_for_a_reason_before_it_changes_anything(client, player, admin_staff):
    event = set_state(record(player), status=DeliveryStatus.DEAD)
    client.force_login(admin_staff)

    response = client.post(reverse(CHANGELIST), {"action": "retry_now", "_selected_action": [event.pk]})

    assert response.status_code == 200 and b"Retry CRM events now" in response.content
    assert OutboxEvent.objects.get(pk=event.pk).status == DeliveryStatus.DEAD
    assert not AuditEntry.objects.exists()


def test_retry_now_is_refused_for_a_delivered_event_with_a_message(client, player, admin_staff):
    event = set_state(record(player), status=DeliveryStatus.DELIVERED, attempts=1)
    client.force_login(admin_staff)

    response = run_action(client, "retry_now", [event])

    assert any("replay it" in message for message in messages_of(response))
    assert (OutboxEvent.objects.get(pk=event.pk).status, OutboxEvent.objects.get(pk=event.pk).attempts) == (
        DeliveryStatus.DELIVERED, 1)
    assert not AuditEntry.objects.exists()


def test_retry_is_refused_while_a_worker_holds_the_event(player, admin_staff):
    event = set_state(record(player), claimed_until=datetime.now(UTC) + timedelta(seconds=20))

    with pytest.raises(Conflict):
        services.outbox_event_retry(event_pk=event.pk, actor=admin_staff, reason="impatient")

    assert OutboxEvent.objects.get(pk=event.pk).claimed_until == event.claimed_until
    assert not AuditEntry.objects.exists()


def test_replay_queues_a_new_event_with_the_same_payload_and_leaves_the_delivered_one(client, player, admin_staff):
    original = set_state(record(player, EventType.USER_BLOCK), status=DeliveryStatus.DELIVERED, attempts=1,
                         delivered_at=T0)
    client.force_login(admin_staff)

    response = run_action(client, "replay", [original], reason="Fast Track asked for it again")

    assert "Replay CRM events: done for 1 of 1." in messages_of(response)
    replay = OutboxEvent.objects.exclude(pk=original.pk).get()
    assert (replay.status, replay.attempts, replay.replay_of_id) == (DeliveryStatus.PENDING, 0, original.pk)
    assert (replay.event_type, replay.player_id, replay.payload) == (
        original.event_type, original.player_id, original.payload)
    assert replay.event_id != original.event_id and replay.pk > original.pk
    assert OutboxEvent.objects.get(pk=original.pk).status == DeliveryStatus.DELIVERED
    [entry] = AuditEntry.objects.filter(target_type="crm.outboxevent", target_id=str(original.pk))
    assert (entry.action, entry.actor, entry.after["replay_id"]) == ("crm.event_replay", admin_staff, replay.pk)


def test_replay_is_refused_for_an_event_not_delivered(client, player, admin_staff):
    event = record(player)
    client.force_login(admin_staff)

    response = run_action(client, "replay", [event])

    assert any("Only a delivered event" in message for message in messages_of(response))
    assert OutboxEvent.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_marketing_sees_the_outbox_but_may_not_retry_or_replay(client, player, marketing):
    event = set_state(record(player), status=DeliveryStatus.DEAD)
    client.force_login(marketing)

    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    action_form = response.context["action_form"]  # None when no action at all is offered
    offered = [name for name, _ in action_form.fields["action"].choices] if action_form else []
    assert "retry_now" not in offered and "replay" not in offered

    run_action(client, "retry_now", [event])
    assert OutboxEvent.objects.get(pk=event.pk).status == DeliveryStatus.DEAD
    assert not AuditEntry.objects.exists()


def test_support_does_not_see_the_outbox(client, support):
    client.force_login(support)
    assert client.get(reverse(CHANGELIST)).status_code == 403


def test_the_player_page_shows_the_players_crm_events_to_staff_allowed_to_see_them(client, player, compliance, support):
    record(player, EventType.USER_BLOCK)
    set_state(record(player, EventType.USER_CONSENTS), status=DeliveryStatus.DEAD, last_error="HTTP 400: bad")
    url = reverse("admin:players_player_change", args=[player.pk])

    client.force_login(compliance)
    page = client.get(url).content.decode()
    assert 'id="crm-timeline"' in page
    assert "USER_BLOCK_V2" in page and "USER_CONSENTS_V2" in page and "HTTP 400: bad" in page

    client.force_login(support)
    page = client.get(url).content.decode()
    assert 'id="crm-timeline"' not in page
