"""CRM event delivery: commit-to-arrival latency at a steady 200 events/s, and the drain rate of a backlog.

Everything real: events committed to the bench database, Celery worker processes delivering them over
HTTP to a receiver process standing in for Fast Track (`crm.tests.receiver`), which records arrivals.
Per-player order and completeness are checked on the receiving side.

- Latency: a producer commits one business change + its event per transaction at 200/s (random players
  among 1,000) for LATENCY_SECONDS; latency = arrival at the receiver - end of the commit.
- Drain: 100,000 events (10,000 players x 10, interleaved) are written with the workers idle, as after
  an outage; one kick starts them, and the rate is events / (time until none is PENDING).

Targets (issue): p99 <= 250 ms at 200 events/s; drain >= 1,000 events/s.
Knobs (environment): CRM_BENCH_WORKERS (worker pool processes, default 2), CRM_BENCH_RATE, CRM_BENCH_SECONDS,
CRM_BENCH_BACKLOG.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path

from benchmarks.common import Figure, log, percentile

BASE_DIR = Path(__file__).resolve().parent.parent
RATE = int(os.environ.get("CRM_BENCH_RATE", "200"))
LATENCY_SECONDS = float(os.environ.get("CRM_BENCH_SECONDS", "30"))
BACKLOG = int(os.environ.get("CRM_BENCH_BACKLOG", "100000"))
BACKLOG_PLAYERS = 10_000
WORKERS = int(os.environ.get("CRM_BENCH_WORKERS", "2"))
LATENCY_PLAYERS = 1_000
PRODUCERS = 4
SYNTHETIC_PLAYER_BASE = 9_000_000_000  # backlog events of players that need no row


class Process:
    """A child process in its own process group, stopped (and its children) whatever happens."""

    def __init__(self, command: list[str], env: dict, ready: str):
        self.lines: list[str] = []
        self._ready_marker = ready
        self._ready = threading.Event()
        self.popen = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(60):
            self.stop()
            raise RuntimeError(f"{command[0]} did not start: " + " | ".join(self.lines[-10:]))

    def _read(self) -> None:
        for line in self.popen.stdout:
            if len(self.lines) < 2000:
                self.lines.append(line.rstrip())
            if self._ready_marker in line:
                self._ready.set()

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            if self.popen.poll() is None:
                try:
                    os.killpg(self.popen.pid, sig)
                    self.popen.wait(wait)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    pass


def _receiver_call(base_url: str, path: str, method: str = "GET") -> dict:
    request = urllib.request.Request(base_url + path, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def _outbox_clear() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_outboxevent")


def _pending() -> int:
    from crm.models import DeliveryStatus, OutboxEvent

    return OutboxEvent.objects.filter(status=DeliveryStatus.PENDING).count()


def _wait_drained(timeout: float) -> float:
    """Seconds until no event is PENDING (polled every 50 ms)."""
    started = time.monotonic()
    while _pending():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{_pending()} events still pending after {timeout:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - started


def _players() -> list:
    from players.models import Brand, Player

    brand, _ = Brand.objects.get_or_create(code="crm-bench", defaults={"name": "CRM bench", "origin": "bench.example"})
    existing = list(Player.objects.filter(username__startswith="crm-bench-").order_by("pk")[:LATENCY_PLAYERS])
    missing = LATENCY_PLAYERS - len(existing)
    if missing > 0:
        start = len(existing)
        Player.objects.bulk_create(
            Player(brand=brand, username=f"crm-bench-{start + i}", email=f"crm-bench-{start + i}@bench.example",
                   password="!", birth_date=date(1990, 1, 1), country="MT", language="en", currency="EUR",
                   origin=brand.origin)
            for i in range(missing))
        existing = list(Player.objects.filter(username__startswith="crm-bench-").order_by("pk")[:LATENCY_PLAYERS])
    return existing


def _order_check(arrivals: list, expected: dict[str, list[str]]) -> tuple[int, int, int]:
    """(lost, out of order, duplicate arrivals) of the expected events, per player, on the receiving side."""
    first_seen: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    duplicates = 0
    wanted = {event_id for events in expected.values() for event_id in events}
    for event_id, user_id, _ in arrivals:
        if event_id not in wanted:
            continue
        if event_id in seen:
            duplicates += 1
            continue
        seen.add(event_id)
        first_seen[user_id].append(event_id)
    lost = len(wanted - seen)
    out_of_order = 0
    for user_id, events in expected.items():
        got = first_seen.get(user_id, [])
        out_of_order += sum(1 for position, event_id in enumerate(got)
                            if position >= len(events) or events[position] != event_id)
    return lost, out_of_order, duplicates


def _expected_by_player(event_ids: set[str] | None = None) -> dict[str, list[str]]:
    from crm.models import OutboxEvent

    expected: dict[str, list[str]] = defaultdict(list)
    for player_id, event_id in OutboxEvent.objects.order_by("id").values_list("player_id", "event_id").iterator(
            chunk_size=20_000):
        if event_ids is None or str(event_id) in event_ids:
            expected[str(player_id)].append(str(event_id))
    return expected


def _latency_phase(players: list, receiver_url: str) -> list[Figure]:
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.models import EventType
    from crm.services import crm_event_record
    from players.models import Player

    committed: dict[str, float] = {}
    interval = 1.0 / RATE
    count = int(RATE * LATENCY_SECONDS)
    late = [0] * PRODUCERS
    log(f"# crm_delivery: {count} events at {RATE}/s from {PRODUCERS} producer threads")

    def produce(index: int) -> None:
        # Like web workers: each thread its own connection, slots index, index + PRODUCERS, ...
        rng = random.Random(index)
        try:
            for n in range(index, count, PRODUCERS):
                delay = started + n * interval - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                elif delay < -PRODUCERS * interval:
                    late[index] += 1
                player = rng.choice(players)
                box = {}
                with transaction.atomic():
                    Player.objects.filter(pk=player.pk).update(updated_at=timezone.now())  # the business change
                    transaction.on_commit(lambda box=box: box.__setitem__("at", time.time()))  # first after COMMIT
                    event = crm_event_record(event_type=EventType.USER_UPDATE, player=player)
                committed[str(event.event_id)] = box["at"]
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=produce, args=(index,)) for index in range(PRODUCERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    behind = sum(late)
    produced_rate = count / (time.perf_counter() - started)
    _wait_drained(60)
    arrivals = _receiver_call(receiver_url, "/_arrivals")["arrivals"]
    first_arrival: dict[str, float] = {}
    for event_id, _, arrived_at in arrivals:
        first_arrival.setdefault(event_id, arrived_at)
    latencies = [(first_arrival[event_id] - at) * 1000 for event_id, at in committed.items()
                 if event_id in first_arrival]
    lost, out_of_order, duplicates = _order_check(arrivals, _expected_by_player(set(committed)))
    log(f"# crm_delivery: produced at {produced_rate:.0f}/s ({behind} slots late); lost {lost}, "
        f"out of order {out_of_order}, duplicates {duplicates}")
    return [
        ("crm_delivery.latency_at_200eps.p50", round(percentile(latencies, 50), 2), "ms"),
        ("crm_delivery.latency_at_200eps.p95", round(percentile(latencies, 95), 2), "ms"),
        ("crm_delivery.latency_at_200eps.p99", round(percentile(latencies, 99), 2), "ms"),
        ("crm_delivery.latency_at_200eps.max", round(max(latencies), 2), "ms"),
        ("crm_delivery.latency_at_200eps.produced_rate", round(produced_rate, 1), "events/s"),
        ("crm_delivery.latency_at_200eps.lost", lost, "events"),
        ("crm_delivery.latency_at_200eps.out_of_order", out_of_order, "events"),
    ]


def _drain_phase(receiver_url: str) -> list[Figure]:
    from django.db import connection, transaction
    from django.utils import timezone

    from crm.delivery import delivery_kick

    _outbox_clear()
    _receiver_call(receiver_url, "/_reset", "POST")
    log(f"# crm_delivery: writing a backlog of {BACKLOG} events for {BACKLOG_PLAYERS} players")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO crm_outboxevent (event_id, event_type, player_id, payload, created_at, status, attempts,
                                         next_attempt_at, last_error)
            SELECT gen_random_uuid(), 'USER_UPDATE_V2', %(base)s + g %% %(players)s,
                   jsonb_build_object('user_id', (%(base)s + g %% %(players)s)::text,
                                      'timestamp', to_char(%(now)s at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                      'origin', 'bench.example'),
                   %(now)s, 'PENDING', 0, %(now)s, ''
            FROM generate_series(0, %(count)s - 1) AS g ORDER BY g
            """,
            {"base": SYNTHETIC_PLAYER_BASE, "players": BACKLOG_PLAYERS, "count": BACKLOG, "now": timezone.now()},
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_outboxevent")
    expected = _expected_by_player()
    started = time.monotonic()
    delivery_kick()
    seconds = _wait_drained(600)
    rate = BACKLOG / seconds
    arrivals = _receiver_call(receiver_url, "/_arrivals")["arrivals"]
    lost, out_of_order, duplicates = _order_check(arrivals, expected)
    log(f"# crm_delivery: drained {BACKLOG} in {time.monotonic() - started:.1f} s; lost {lost}, "
        f"out of order {out_of_order}, duplicates {duplicates}")
    return [
        ("crm_delivery.drain_100k.rate", round(rate, 1), "events/s"),
        ("crm_delivery.drain_100k.seconds", round(seconds, 2), "s"),
        ("crm_delivery.drain_100k.lost", lost, "events"),
        ("crm_delivery.drain_100k.out_of_order", out_of_order, "events"),
        ("crm_delivery.drain_100k.duplicates", duplicates, "events"),
    ]


def run() -> list[Figure]:
    from django.conf import settings

    queue = f"crm-bench-{uuid.uuid4().hex[:8]}"
    usual_queue = settings.CRM_DELIVERY_QUEUE
    settings.CRM_DELIVERY_QUEUE = queue  # this process's kicks go to the bench's own workers only
    _outbox_clear()
    players = _players()
    receiver = Process([sys.executable, "-m", "crm.tests.receiver"], dict(os.environ), ready="")
    processes = [receiver]
    try:
        ports = [line for line in list(receiver.lines) if line.strip().isdigit()]
        if not ports:
            raise RuntimeError("the receiver did not start: " + " | ".join(receiver.lines[-5:]))
        port = int(ports[0])
        receiver_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "CRM_DELIVERY_QUEUE": queue, "FASTTRACK_BASE_URL": receiver_url, "DEBUG": "0"}
        celery = str(Path(sys.executable).with_name("celery"))
        processes.append(Process(
            [celery, "-A", "igaming", "worker", "-Q", queue, "-c", str(WORKERS), "-n", f"{queue}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
            env, ready=" ready."))
        figures = _latency_phase(players, receiver_url)
        figures += _drain_phase(receiver_url)
        return figures
    finally:
        for process in reversed(processes):
            process.stop()
        settings.CRM_DELIVERY_QUEUE = usual_queue
        _outbox_clear()
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(queue)
