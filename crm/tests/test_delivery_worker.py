"""End to end: committed rows in the real test database, real Celery worker processes, a real HTTP receiver.

Transactional tests: the workers only see what the test commits.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection, transaction

from crm import delivery
from crm.models import DeliveryStatus, EventType, OutboxEvent
from crm.services import crm_event_record
from crm.tests.conftest import Worker, wait_until
from crm.tests.receiver import Receiver, Reply
from players.tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def record(player, event_type=EventType.USER_UPDATE) -> OutboxEvent:
    with transaction.atomic():
        return crm_event_record(event_type=event_type, player=player)


def pending() -> int:
    return OutboxEvent.objects.filter(status=DeliveryStatus.PENDING).count()


def arrivals_by_player(receiver: Receiver) -> dict[str, list[str]]:
    by_player = defaultdict(list)
    for arrival in list(receiver.arrivals):
        by_player[arrival.user_id].append(arrival.event_id)
    return dict(by_player)


def expected_by_player() -> dict[str, list[str]]:
    by_player = defaultdict(list)
    for player_id, event_id in OutboxEvent.objects.order_by("id").values_list("player_id", "event_id"):
        by_player[str(player_id)].append(str(event_id))
    return dict(by_player)


@pytest.fixture(scope="module")
def shared_receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def shared_worker(django_db_setup, shared_receiver, tmp_path_factory):
    """One worker for the tests that need no special one (a worker takes about a second to start)."""
    worker = Worker(queue=f"crm-test-{uuid.uuid4().hex[:10]}", receiver_url=shared_receiver.url,
                    tmp_dir=tmp_path_factory.mktemp("worker"))
    yield worker
    worker.stop()
    redis.Redis.from_url(django_settings.REDIS_URL).delete(worker.queue)


@pytest.fixture
def fast_track(shared_receiver, shared_worker, settings):
    """The shared receiver, reset, with this process's kicks going to the shared worker."""
    settings.CRM_DELIVERY_QUEUE = shared_worker.queue
    shared_receiver.behaviour = None
    shared_receiver.arrivals.clear()
    shared_receiver.overlaps.clear()
    yield shared_receiver
    if shared_receiver._loop is None:
        shared_receiver.start()
    # Let the worker finish what it is sending before the test database is emptied.
    wait_until(lambda: not OutboxEvent.objects.filter(claimed_until__isnull=False).exists(), timeout=5)


def test_events_committed_while_fast_track_is_down_all_arrive_in_order_once_it_is_up(brand, fast_track):
    fast_track.stop()
    players = [PlayerFactory(brand=brand) for _ in range(3)]
    for _ in range(4):
        for player in players:
            record(player)

    # Each player's first event was tried and refused; their later events were not even tried.
    assert wait_until(lambda: OutboxEvent.objects.filter(attempts__gte=1).count() == 3, timeout=10)
    assert pending() == 12
    assert OutboxEvent.objects.filter(attempts=0).count() == 9
    assert fast_track.arrivals == []

    fast_track.start()  # same port; the retry one second after the failure finds it up

    assert wait_until(lambda: pending() == 0, timeout=20)
    assert arrivals_by_player(fast_track) == expected_by_player()  # all of them, once each, in order
    assert fast_track.overlaps == []
    assert OutboxEvent.objects.filter(status=DeliveryStatus.DELIVERED).count() == 12
    heads = OutboxEvent.objects.filter(attempts__gte=2)
    assert heads.count() == 3 and {event.last_status_code for event in heads} == {200}


def test_a_rolled_back_change_sends_nothing_while_a_committed_one_arrives(player, fast_track):
    with pytest.raises(RuntimeError), transaction.atomic():
        doomed = crm_event_record(event_type=EventType.USER_BLOCK, player=player)
        raise RuntimeError("the business change failed")
    kept = record(player)

    assert wait_until(lambda: pending() == 0 and len(fast_track.arrivals) == 1, timeout=10)
    time.sleep(0.3)  # a stray send of the rolled-back event would have arrived by now
    assert fast_track.event_ids() == [str(kept.event_id)]
    assert str(doomed.event_id) not in fast_track.event_ids()
    assert list(OutboxEvent.objects.values_list("event_id", flat=True)) == [kept.event_id]


def test_two_workers_never_send_the_same_event_at_once_and_keep_each_players_order(
        brand, fast_track, shared_worker, start_worker):
    start_worker(queue=shared_worker.queue, receiver_url=fast_track.url)
    fast_track.behaviour = lambda arrival: Reply(200, delay=0.003)  # widen any window for a double send
    players = [PlayerFactory(brand=brand) for _ in range(15)]
    for _ in range(8):
        for player in players:
            record(player)

    assert wait_until(lambda: pending() == 0, timeout=30)
    assert fast_track.overlaps == []  # never the same event, nor the same player, twice in flight
    assert arrivals_by_player(fast_track) == expected_by_player()  # exactly once each, in order
    assert len(fast_track.arrivals) == 120


def test_an_event_whose_worker_is_killed_mid_send_is_sent_again_after_its_lease_and_delivered(
        player, receiver, crm_queue, start_worker):
    receiver.behaviour = lambda arrival: Reply(200, delay=30) if len(receiver.arrivals) == 1 else Reply(200)
    lease = {"CRM_DELIVERY_LEASE_SECONDS": "4"}
    first = start_worker(queue=crm_queue, receiver_url=receiver.url, **lease)
    with transaction.atomic():
        head = crm_event_record(event_type=EventType.USER_UPDATE, player=player)
        follower = crm_event_record(event_type=EventType.USER_CONSENTS, player=player)

    assert wait_until(lambda: len(receiver.arrivals) == 1, timeout=10)
    first.kill()  # SIGKILL, mid-send
    first.process.wait(5)
    stranded = OutboxEvent.objects.get(pk=head.pk)
    assert (stranded.status, stranded.attempts) == (DeliveryStatus.PENDING, 0)
    assert stranded.claimed_until is not None  # the dead worker's lease

    start_worker(queue=crm_queue, receiver_url=receiver.url, beat=True, **lease)  # beat: the sweep every second

    assert wait_until(lambda: pending() == 0, timeout=20)
    assert receiver.event_ids() == [str(head.event_id), str(head.event_id), str(follower.event_id)]
    resent_after = receiver.arrivals[1].arrived_at - receiver.arrivals[0].arrived_at
    assert resent_after >= 3.0  # not before the lease ran out
    head = OutboxEvent.objects.get(pk=head.pk)
    assert (head.status, head.attempts, head.claimed_until) == (DeliveryStatus.DELIVERED, 1, None)


def test_an_event_whose_kick_was_lost_with_redis_is_delivered_by_the_periodic_sweep(
        player, receiver, crm_queue, start_worker, monkeypatch):
    from crm.tasks import crm_outbox_deliver

    def redis_down(*args, **kwargs):
        raise ConnectionRefusedError("Redis is down")

    start_worker(queue=crm_queue, receiver_url=receiver.url, beat=True)
    monkeypatch.setattr(crm_outbox_deliver, "apply_async", redis_down)
    event = record(player)  # commits; the kick after commit fails and is only logged
    assert OutboxEvent.objects.get(pk=event.pk).status == DeliveryStatus.PENDING

    assert wait_until(lambda: pending() == 0, timeout=15)
    assert receiver.event_ids() == [str(event.event_id)]
    assert OutboxEvent.objects.get(pk=event.pk).status == DeliveryStatus.DELIVERED


def test_concurrent_delivery_loops_never_send_an_event_twice_at_once(brand, fasttrack, settings):
    settings.CRM_DELIVERY_BATCH_PLAYERS = 3  # small batches: many claims racing each other
    settings.CRM_DELIVERY_CHAIN = 2
    fasttrack.behaviour = lambda arrival: Reply(200, delay=0.002)
    players = [PlayerFactory(brand=brand) for _ in range(10)]
    for _ in range(6):
        for player in players:
            record(player)
    errors = []

    def loop():
        try:
            while pending():
                delivery.delivery_run(budget_seconds=5)
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=loop) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert pending() == 0
    assert fasttrack.overlaps == []
    assert arrivals_by_player(fasttrack) == expected_by_player()
    assert len(fasttrack.arrivals) == 60
