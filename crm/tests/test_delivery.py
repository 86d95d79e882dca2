"""Delivery of outbox events, run in this process against a real HTTP receiver and the real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from crm import delivery
from crm.fasttrack.routes import ROUTES, route_for
from crm.models import DeliveryStatus, EventType, OutboxEvent
from crm.services import crm_event_record
from crm.tests.conftest import queued_kicks
from crm.tests.receiver import Reply
from crm.transports import OutboundEvent, transport_get
from players.tests.factories import PlayerFactory

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
# 10.250 s into a 2 s window (10-12 s) of the wall clock.
IN_A_WINDOW = datetime(2026, 11, 21, 12, 0, 10, 250000, tzinfo=UTC)


def record(player, event_type=EventType.USER_UPDATE, **kwargs) -> OutboxEvent:
    with transaction.atomic():
        return crm_event_record(event_type=event_type, player=player, **kwargs)


def refreshed(event: OutboxEvent) -> OutboxEvent:
    return OutboxEvent.objects.get(pk=event.pk)


def fail_player(player_id: int, status: int = 503):
    return lambda arrival: Reply(status if arrival.user_id == str(player_id) else 200)


def test_every_event_type_has_a_rest_route_from_the_contract():
    assert set(ROUTES) == set(EventType.values)
    assert route_for(EventType.USER_CREATE) == ("POST", "/v2/integration/user")
    assert route_for(EventType.USER_UPDATE) == ("PUT", "/v2/integration/user")
    assert route_for(EventType.USER_BLOCK) == ("PUT", "/v2/integration/user/blocks")
    assert route_for(EventType.CASINO) == ("POST", "/v1/integration/casino")
    assert route_for(EventType.CUSTOM) == ("POST", "/v1/integration/custom")


@pytest.mark.django_db
def test_a_committed_event_is_sent_with_its_route_api_key_and_event_id_then_marked_delivered(player, fasttrack):
    event = record(player, EventType.LOGIN, data={"ip_address": "10.0.0.1"})
    assert (event.status, event.attempts, event.delivered_at) == (DeliveryStatus.PENDING, 0, None)

    totals = delivery.delivery_run()

    assert (totals.claimed, totals.delivered, totals.failed) == (1, 1, 0)
    [arrival] = fasttrack.arrivals
    assert (arrival.method, arrival.path) == ("POST", "/v2/integration/login")
    assert arrival.headers["x-event-id"] == str(event.event_id)
    assert arrival.headers["x-api-key"] == "test-api-key"
    assert arrival.headers["content-type"] == "application/json"
    assert json.loads(arrival.body) == event.payload
    assert json.loads(arrival.body)["user_id"] == str(player.pk)
    event = refreshed(event)
    assert (event.status, event.attempts, event.last_status_code, event.claimed_until) == (
        DeliveryStatus.DELIVERED, 1, 200, None)
    assert event.delivered_at is not None
    assert delivery.delivery_run().claimed == 0  # nothing is sent twice


@pytest.mark.django_db
def test_a_players_events_go_in_order_and_a_failing_player_holds_up_nobody_else(brand, fasttrack, crm_queue):
    stuck, fine = PlayerFactory(brand=brand), PlayerFactory(brand=brand)
    fasttrack.behaviour = fail_player(stuck.pk)
    with time_machine.travel(T0, tick=False):
        stuck_events = [record(stuck) for _ in range(3)]
        fine_events = [record(fine, event_type) for event_type in (EventType.USER_UPDATE, EventType.USER_BLOCK,
                                                                   EventType.USER_CONSENTS)]
        assert queued_kicks(crm_queue) == 0
        delivery.delivery_run()

    # Players are sent in parallel, so only each player's own order is fixed.
    assert sorted(fasttrack.event_ids()) == sorted(str(e.event_id) for e in [stuck_events[0], *fine_events])
    fine_arrivals = [a.event_id for a in fasttrack.arrivals if a.user_id == str(fine.pk)]
    assert fine_arrivals == [str(e.event_id) for e in fine_events]
    assert all(refreshed(e).status == DeliveryStatus.DELIVERED for e in fine_events)
    head = refreshed(stuck_events[0])
    assert (head.status, head.attempts, head.last_status_code) == (DeliveryStatus.PENDING, 1, 503)
    assert head.next_attempt_at == T0 + timedelta(seconds=1)
    assert head.last_error.startswith("HTTP 503")
    assert head.claimed_until is None
    assert [(refreshed(e).status, refreshed(e).attempts) for e in stuck_events[1:]] == [(DeliveryStatus.PENDING, 0)] * 2
    assert queued_kicks(crm_queue) == 1  # a delayed kick for the retry in 1 s


@pytest.mark.django_db
def test_a_failed_head_is_retried_when_due_and_its_followers_then_follow_in_order(player, fasttrack):
    fasttrack.behaviour = lambda arrival: Reply(500)
    with time_machine.travel(T0, tick=False) as clock:
        events = [record(player) for _ in range(4)]
        delivery.delivery_run()
        assert delivery.delivery_run().claimed == 0  # not due again before 1 s
        fasttrack.behaviour = None
        clock.shift(timedelta(seconds=1))
        totals = delivery.delivery_run()

    assert totals.delivered == 4
    assert fasttrack.event_ids() == [str(events[0].event_id)] + [str(e.event_id) for e in events]
    assert [refreshed(e).attempts for e in events] == [2, 1, 1, 1]
    assert all(refreshed(e).status == DeliveryStatus.DELIVERED for e in events)


@pytest.mark.django_db
def test_an_answer_slower_than_the_read_timeout_is_a_failed_attempt(player, fasttrack):
    event = record(player)
    fasttrack.behaviour = lambda arrival: Reply(200, delay=1.5)

    delivery.delivery_run()

    event = refreshed(event)
    assert (event.status, event.attempts, event.last_status_code) == (DeliveryStatus.PENDING, 1, None)
    assert event.last_error.startswith("timeout")


@pytest.mark.django_db
def test_a_refused_connection_is_a_failed_attempt(player, fasttrack):
    event = record(player)
    fasttrack.stop()

    delivery.delivery_run()

    event = refreshed(event)
    assert (event.status, event.attempts) == (DeliveryStatus.PENDING, 1)
    assert event.last_error.startswith("connection failed")


@pytest.mark.parametrize(("failed_attempts", "seconds"), [
    (1, 1), (2, 5), (3, 30), (4, 120), (5, 300), (6, 1800), (7, 3600), (8, 3600), (60, 3600)])
def test_the_retry_delay_grows_from_one_second_to_hourly(failed_attempts, seconds):
    assert delivery.retry_delay(failed_attempts) == timedelta(seconds=seconds)


def test_the_last_retry_happens_at_the_give_up_time_and_a_failure_then_dead_letters():
    created = T0
    deadline = T0 + timedelta(hours=72)
    assert delivery.after_failure(failed_attempts=3, created_at=created, give_up_at=None, now=T0) == (
        DeliveryStatus.PENDING, T0 + timedelta(seconds=30))
    assert delivery.after_failure(failed_attempts=70, created_at=created, give_up_at=None,
                                  now=deadline - timedelta(minutes=10)) == (DeliveryStatus.PENDING, deadline)
    assert delivery.after_failure(failed_attempts=71, created_at=created, give_up_at=None, now=deadline) == (
        DeliveryStatus.DEAD, None)
    revived_until = deadline + timedelta(hours=5)
    assert delivery.after_failure(failed_attempts=1, created_at=created, give_up_at=revived_until, now=deadline) == (
        DeliveryStatus.PENDING, deadline + timedelta(seconds=1))


@pytest.mark.django_db
def test_an_event_failing_for_72_hours_is_dead_lettered_and_the_players_next_event_then_goes(player, fasttrack):
    with time_machine.travel(T0, tick=False) as clock:
        doomed, follower = record(player), record(player)
        fasttrack.behaviour = lambda arrival: Reply(502 if arrival.event_id == str(doomed.event_id) else 200)
        attempt_times = []
        while refreshed(doomed).status == DeliveryStatus.PENDING:
            clock.move_to(refreshed(doomed).next_attempt_at)
            attempt_times.append(datetime.now(UTC))
            delivery.delivery_run()
            assert len(attempt_times) < 200

    gaps = [(later - earlier).total_seconds() for earlier, later in zip(attempt_times, attempt_times[1:], strict=False)]
    assert gaps[:6] == [1, 5, 30, 120, 300, 1800]
    assert set(gaps[6:-1]) == {3600} and 0 < gaps[-1] <= 3600
    assert attempt_times[-1] == T0 + timedelta(hours=72)
    doomed = refreshed(doomed)
    assert (doomed.status, doomed.attempts, doomed.last_status_code) == (DeliveryStatus.DEAD, len(attempt_times), 502)
    assert fasttrack.event_ids().count(str(doomed.event_id)) == len(attempt_times)
    assert fasttrack.event_ids()[-1] == str(follower.event_id)
    assert refreshed(follower).status == DeliveryStatus.DELIVERED


@pytest.mark.django_db
def test_a_claim_is_exclusive_until_its_lease_runs_out_and_a_stale_claimant_cannot_record(player, fasttrack):
    with time_machine.travel(T0, tick=False) as clock:
        event = record(player)
        first, first_lease = delivery.outbox_claim(lease_seconds=30)
        assert [[claimed.pk for claimed in chain] for chain in first] == [[event.pk]]
        assert delivery.outbox_claim(lease_seconds=30)[0] == []  # a second worker gets nothing meanwhile
        clock.shift(timedelta(seconds=31))
        second, second_lease = delivery.outbox_claim(lease_seconds=30)
        assert [[claimed.pk for claimed in chain] for chain in second] == [[event.pk]]

        outcome = delivery.Outcome(first[0][0], delivery.SendResult(ok=True, status_code=200), T0)
        totals = delivery._record([outcome], first_lease)

    assert totals.delivered == 1
    event = refreshed(event)
    assert (event.status, event.attempts, event.claimed_until) == (DeliveryStatus.PENDING, 0, second_lease)


@pytest.mark.django_db
def test_a_send_that_could_outlive_its_claim_is_not_started(player, fasttrack, settings):
    settings.CRM_DELIVERY_LEASE_SECONDS = 2  # shorter than timeouts + margin (0.5 + 0.5 + 0.5 + 1)
    event = record(player)

    totals = delivery.delivery_run()  # and gives up at once instead of claiming and releasing in a loop

    assert (totals.batches, totals.claimed, totals.released, totals.delivered) == (1, 1, 1, 0)
    assert fasttrack.arrivals == []
    event = refreshed(event)
    assert (event.status, event.attempts, event.claimed_until) == (DeliveryStatus.PENDING, 0, None)


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_event_and_no_kick(player, crm_queue, django_capture_on_commit_callbacks):
    with (django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError),
          transaction.atomic()):
        crm_event_record(event_type=EventType.USER_UPDATE, player=player)
        raise RuntimeError("the business change failed")

    assert not OutboxEvent.objects.exists()
    assert callbacks == []
    assert queued_kicks(crm_queue) == 0


@pytest.mark.django_db
def test_a_transaction_writing_several_events_publishes_one_kick_after_commit(
        player, crm_queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for _ in range(3):
            crm_event_record(event_type=EventType.USER_UPDATE, player=player)
        assert queued_kicks(crm_queue) == 0  # nothing leaves before the commit

    assert len(callbacks) == 1
    callbacks[0]()
    assert queued_kicks(crm_queue) == 1
    assert OutboxEvent.objects.filter(player_id=player.pk).count() == 3


@pytest.mark.django_db
def test_a_kick_that_cannot_reach_the_broker_does_not_fail_the_business_change(player, settings, monkeypatch):
    from crm.tasks import crm_outbox_deliver

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is down")

    monkeypatch.setattr(crm_outbox_deliver, "apply_async", broker_down)
    event = record(player)

    delivery.delivery_kick()  # what runs after the commit: logs, does not raise

    assert refreshed(event).status == DeliveryStatus.PENDING  # the sweep will deliver it


@pytest.mark.django_db
def test_the_rest_transport_uses_the_configured_header_and_path_prefix(fasttrack, settings):
    settings.FASTTRACK_BASE_URL = fasttrack.url + "/ft/"
    settings.FASTTRACK_API_KEY_HEADER = "X-Fasttrack-Key"
    outbound = OutboundEvent("11111111-1111-1111-1111-111111111111", EventType.USER_BLOCK, 7,
                             b'{"user_id": "7", "amount": 10.25}')

    result = transport_get().send(outbound)

    assert (result.ok, result.status_code) == (True, 200)
    [arrival] = fasttrack.arrivals
    assert (arrival.method, arrival.path) == ("PUT", "/ft/v2/integration/user/blocks")
    assert arrival.headers["x-fasttrack-key"] == "test-api-key"
    assert arrival.body == b'{"user_id": "7", "amount": 10.25}'


@pytest.mark.django_db
def test_a_dead_event_revived_by_retry_now_goes_before_the_players_later_events(player, fasttrack):
    from crm.services import outbox_event_retry

    with time_machine.travel(T0, tick=False):
        dead = record(player)
        OutboxEvent.objects.filter(pk=dead.pk).update(status=DeliveryStatus.DEAD, attempts=70)
        later = [record(player), record(player)]
        with transaction.atomic():
            outbox_event_retry(event_pk=dead.pk, actor=None, reason="intake fixed")

        delivery.delivery_run()

    assert fasttrack.event_ids() == [str(dead.event_id), str(later[0].event_id), str(later[1].event_id)]
    dead = refreshed(dead)
    assert (dead.status, dead.attempts) == (DeliveryStatus.DELIVERED, 1)


@pytest.mark.django_db
def test_amounts_leave_as_the_exact_json_numbers_stored_and_a_replay_keeps_them(player, fasttrack):
    from crm.services import outbox_event_replay

    event = record(player, EventType.CUSTOM, data={"notification_type": "bench_amount",
                                                   "data": {"amount": Decimal("12345678901234567.10")}})
    delivery.delivery_run()
    with transaction.atomic():
        replay = outbox_event_replay(event_pk=event.pk, actor=None, reason="resend")
    delivery.delivery_run()

    first, again = fasttrack.arrivals
    assert (first.event_id, again.event_id) == (str(event.event_id), str(replay.event_id))
    for arrival in (first, again):
        assert b'"amount": 12345678901234567.10' in arrival.body
        assert json.loads(arrival.body, parse_float=Decimal)["data"]["amount"] == Decimal("12345678901234567.10")


@pytest.mark.django_db(transaction=True)
def test_commits_within_the_coalescing_window_share_one_delivery_task(player, crm_queue, settings):
    settings.CRM_DELIVERY_KICK_COALESCE_MS = 2000
    with time_machine.travel(IN_A_WINDOW, tick=False):
        for _ in range(5):
            record(player)  # five transactions, each kicking after its commit

    assert OutboxEvent.objects.filter(player_id=player.pk).count() == 5
    assert queued_kicks(crm_queue) == 1


def count_redis_kick_calls(monkeypatch) -> list[str]:
    from igaming.redis_client import redis_client

    client = redis_client()
    asked = []
    real_set = client.set
    monkeypatch.setattr(client, "set", lambda key, *args, **kwargs: asked.append(key) or real_set(key, *args, **kwargs))
    return asked


@pytest.mark.django_db(transaction=True)
def test_a_process_asks_redis_once_per_window(player, crm_queue, settings, monkeypatch):
    settings.CRM_DELIVERY_KICK_COALESCE_MS = 2000
    asked = count_redis_kick_calls(monkeypatch)
    with time_machine.travel(IN_A_WINDOW, tick=False) as clock:
        for _ in range(4):
            record(player)
        clock.shift(timedelta(seconds=2))  # the next window
        record(player)

    window = int(IN_A_WINDOW.timestamp() * 1000) // 2000
    assert asked == [f"crm:delivery-kick:{crm_queue}:{window}", f"crm:delivery-kick:{crm_queue}:{window + 1}"]
    assert queued_kicks(crm_queue) == 2


@pytest.mark.django_db(transaction=True)
def test_a_window_whose_kick_another_process_published_publishes_none(player, crm_queue, settings, monkeypatch):
    from igaming.redis_client import redis_client

    settings.CRM_DELIVERY_KICK_COALESCE_MS = 2000
    window = int(IN_A_WINDOW.timestamp() * 1000) // 2000
    redis_client().set(f"crm:delivery-kick:{crm_queue}:{window}", 1, px=4000)  # another process's kick
    asked = count_redis_kick_calls(monkeypatch)
    with time_machine.travel(IN_A_WINDOW, tick=False):
        for _ in range(4):
            record(player)

    assert asked == [f"crm:delivery-kick:{crm_queue}:{window}"]  # once: the window's kick is known
    assert queued_kicks(crm_queue) == 0


@pytest.mark.django_db(transaction=True)
def test_a_windows_kick_is_due_just_after_the_window_ends(player, crm_queue, settings, monkeypatch):
    settings.CRM_DELIVERY_KICK_COALESCE_MS = 2000
    countdowns = []
    monkeypatch.setattr(delivery, "delivery_kick", lambda countdown=None: countdowns.append(countdown))
    with time_machine.travel(IN_A_WINDOW, tick=False):
        record(player)

    # 1.75 s to the window's end (12 s), then the margin for clocks a little apart.
    assert countdowns == [pytest.approx(1.75 + delivery.KICK_AFTER_WINDOW_MS / 1000)]


@pytest.mark.django_db(transaction=True)
def test_the_window_still_to_kick_is_known_without_io_until_its_kick_is_published(crm_queue, settings, monkeypatch):
    settings.CRM_DELIVERY_KICK_COALESCE_MS = 2000
    monkeypatch.setattr(delivery, "delivery_kick", lambda countdown=None: None)
    window = int(IN_A_WINDOW.timestamp() * 1000) // 2000
    with time_machine.travel(IN_A_WINDOW, tick=False) as clock:
        before = delivery.delivery_kick_window()
        delivery.delivery_kick_coalesced()
        after = delivery.delivery_kick_window()
        clock.shift(timedelta(seconds=2))
        next_window = delivery.delivery_kick_window()

    assert (before, after, next_window) == (window, None, window + 1)


@pytest.mark.django_db(transaction=True)
def test_without_a_coalescing_window_every_commit_kicks(player, crm_queue, settings):
    settings.CRM_DELIVERY_KICK_COALESCE_MS = 0
    for _ in range(3):
        record(player)

    assert queued_kicks(crm_queue) == 3
