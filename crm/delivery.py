"""Delivery of the CRM outbox: claim due events, send them, record the outcome. See docs/crm-delivery.md.

- Order: only the head of a player's queue (their oldest PENDING event) may be claimed, with the due
  events right behind it (a "chain", sent one after the other by one thread). The next event of a
  player therefore leaves only after every earlier one was delivered or dead-lettered. Players are
  independent: one player's failing head holds up nobody else.
- Claims: one short transaction locks due heads with `FOR UPDATE SKIP LOCKED` and writes a lease
  (`claimed_until`) on each claimed row. Other workers skip claimed rows until the lease expires, so
  no event is ever in flight twice at once; a worker killed mid-send leaves a lease that runs out and
  the event is sent again later. A send is never started unless it will end before the lease does.
- No network I/O while a transaction is open: claim, commit, send, then record all outcomes in one
  transaction. Outcomes are written only where our lease still stands (`claimed_until = lease`).
- At least once: a crash between a send and its record sends the event again; `X-Event-Id` lets the
  receiver drop the repeat.
- Retries: after a failed attempt (non-2xx, timeout, refused connection) the next one is due after
  1 s, 5 s, 30 s, 2 min, 5 min, 30 min, then hourly, until the give-up time (created_at + 72 h by
  default); a failure at or past it dead-letters the event (status DEAD).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from crm.models import DeliveryStatus
from crm.transports import OutboundEvent, SendResult, Transport, transport_get
from igaming.redis_client import redis_client

logger = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed attempt; then hourly until the give-up time.
RETRY_DELAYS = (1, 5, 30, 120, 300, 1800)
RETRY_AFTER_SCHEDULE = 3600
# A retry due sooner than this is also announced with a delayed Celery task; later ones are left to the
# periodic sweep (a broker holding ETA tasks for hours is fragile, and the sweep is there anyway).
KICK_MAX_COUNTDOWN = 300


def retry_delay(failed_attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt (n >= 1)."""
    if failed_attempts < 1:
        raise ValueError("retry_delay() counts failed attempts from 1")
    index = failed_attempts - 1
    return timedelta(seconds=RETRY_DELAYS[index] if index < len(RETRY_DELAYS) else RETRY_AFTER_SCHEDULE)


def give_up_time(*, created_at: datetime, give_up_at: datetime | None) -> datetime:
    """When an event stops being retried: its own give_up_at (set by "retry now"), else created + 72 h."""
    return give_up_at or created_at + timedelta(hours=settings.CRM_DELIVERY_GIVE_UP_HOURS)


def after_failure(*, failed_attempts: int, created_at: datetime, give_up_at: datetime | None,
                  now: datetime) -> tuple[str, datetime | None]:
    """(status, next attempt) after the n-th failed attempt: PENDING with a time, or DEAD with None."""
    deadline = give_up_time(created_at=created_at, give_up_at=give_up_at)
    if now >= deadline:
        return DeliveryStatus.DEAD, None
    # The last try happens at the give-up time itself, not up to an hour after it.
    return DeliveryStatus.PENDING, min(now + retry_delay(failed_attempts), deadline)


@dataclass(frozen=True)
class ClaimedEvent:
    pk: int
    outbound: OutboundEvent
    attempts: int
    created_at: datetime
    give_up_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    event: ClaimedEvent
    result: SendResult | None  # None: not sent, the claim is just released
    at: datetime


@dataclass
class DeliveryTotals:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    released: int = 0
    batches: int = 0

    def add(self, other: DeliveryTotals) -> None:
        for name in ("claimed", "delivered", "failed", "dead", "released", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in ("claimed", "delivered", "failed", "dead", "released",
                                                        "batches")}


# --- claiming ---------------------------------------------------------------------------------------

# Heads: due, unclaimed PENDING events with no earlier PENDING event of the same player (one probe of
# the partial index outbox_pending_player), oldest due first. SKIP LOCKED: concurrent claimers take
# different heads instead of queueing behind each other. Then each head's chain: the player's next
# PENDING events, in id order, of which the caller keeps the due, unclaimed prefix.
_CLAIM_SQL = """
WITH heads AS (
    SELECT e.id, e.player_id
    FROM crm_outboxevent e
    WHERE e.status = 'PENDING' AND e.next_attempt_at <= %(now)s
      AND (e.claimed_until IS NULL OR e.claimed_until < %(now)s)
      AND NOT EXISTS (
          SELECT 1 FROM crm_outboxevent earlier
          WHERE earlier.status = 'PENDING' AND earlier.player_id = e.player_id AND earlier.id < e.id)
    ORDER BY e.next_attempt_at, e.id
    LIMIT %(players)s
    FOR UPDATE OF e SKIP LOCKED
)
SELECT c.id, c.event_id::text, c.event_type, c.player_id, c.payload::text, c.attempts, c.created_at,
       c.give_up_at, c.next_attempt_at <= %(now)s AND (c.claimed_until IS NULL OR c.claimed_until < %(now)s)
FROM heads h
CROSS JOIN LATERAL (
    SELECT f.id, f.event_id, f.event_type, f.player_id, f.payload, f.attempts, f.created_at, f.give_up_at,
           f.next_attempt_at, f.claimed_until
    FROM crm_outboxevent f
    WHERE f.status = 'PENDING' AND f.player_id = h.player_id AND f.id >= h.id
    ORDER BY f.id
    LIMIT %(chain)s
) c
ORDER BY c.player_id, c.id
"""


def outbox_claim(*, now: datetime | None = None, players: int | None = None, chain: int | None = None,
                 lease_seconds: float | None = None) -> tuple[list[list[ClaimedEvent]], datetime]:
    """Claim due events for up to `players` players: a list of per-player chains, and the lease end.

    Locks the heads (FOR UPDATE SKIP LOCKED) for the length of one short transaction and leaves a lease
    in `claimed_until` on every claimed row. Emits nothing, raises nothing of its own.
    """
    now = now or timezone.now()
    players = players or settings.CRM_DELIVERY_BATCH_PLAYERS
    chain = chain or settings.CRM_DELIVERY_CHAIN
    lease_until = now + timedelta(seconds=lease_seconds or settings.CRM_DELIVERY_LEASE_SECONDS)
    chains: list[list[ClaimedEvent]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, {"now": now, "players": players, "chain": chain})
        rows = cursor.fetchall()
        for _, player_rows in groupby(rows, key=lambda row: row[3]):
            claimed: list[ClaimedEvent] = []
            for pk, event_id, event_type, player_id, body, attempts, created_at, give_up_at, ready in player_rows:
                if not ready:  # a follower not due yet, or still leased by a dead worker: the chain ends here
                    break
                claimed.append(ClaimedEvent(pk, OutboundEvent(event_id, event_type, player_id, body.encode()),
                                            attempts, created_at, give_up_at))
            chains.append(claimed)
        if chains:
            cursor.execute("UPDATE crm_outboxevent SET claimed_until = %s WHERE id = ANY(%s)",
                           [lease_until, [event.pk for claimed in chains for event in claimed]])
    return chains, lease_until


# --- sending ----------------------------------------------------------------------------------------

_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_executor_lock = threading.Lock()


def _executor_get() -> ThreadPoolExecutor:
    """One sending pool per process (a forked Celery child must not inherit its parent's threads)."""
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=settings.CRM_DELIVERY_THREADS, thread_name_prefix="crm-send")
            _executor_pid = os.getpid()
        return _executor


def _send_chain(chain: list[ClaimedEvent], transport: Transport, lease_until: datetime) -> list[Outcome]:
    """Send a player's events in order; stop at the first failure. Runs in a sending thread: no database."""
    outcomes: list[Outcome] = []
    margin = timedelta(seconds=transport.max_send_seconds + 1)
    for position, event in enumerate(chain):
        now = timezone.now()
        if now + margin >= lease_until:  # the send could outlive the claim: leave it to the next claimer
            outcomes.extend(Outcome(rest, None, now) for rest in chain[position:])
            break
        try:
            result = transport.send(event.outbound)
        except Exception as error:  # a transport bug must not strand the rest of the batch
            logger.exception("CRM transport raised for event %s", event.outbound.event_id)
            result = SendResult(ok=False, error=f"transport error: {type(error).__name__}")
        outcomes.append(Outcome(event, result, timezone.now()))
        if not result.ok:
            outcomes.extend(Outcome(rest, None, now) for rest in chain[position + 1:])
            break
    return outcomes


def _send(chains: list[list[ClaimedEvent]], transport: Transport, lease_until: datetime) -> list[Outcome]:
    if len(chains) == 1:  # the common low-traffic case: no hand-off to a thread
        return _send_chain(chains[0], transport, lease_until)
    futures = [_executor_get().submit(_send_chain, chain, transport, lease_until) for chain in chains]
    return [outcome for future in futures for outcome in future.result()]


# --- recording --------------------------------------------------------------------------------------

_DELIVERED_SQL = """
UPDATE crm_outboxevent o
SET status = 'DELIVERED', delivered_at = v.at, attempts = o.attempts + 1, claimed_until = NULL,
    last_status_code = v.code, last_error = ''
FROM unnest(%s::bigint[], %s::timestamptz[], %s::int[]) AS v(id, at, code)
WHERE o.id = v.id AND o.status = 'PENDING' AND o.claimed_until = %s
"""

_FAILED_SQL = """
UPDATE crm_outboxevent o
SET status = v.status, next_attempt_at = COALESCE(v.next_at, o.next_attempt_at), attempts = o.attempts + 1,
    claimed_until = NULL, last_status_code = v.code, last_error = v.error
FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::int[], %s::text[]) AS v(id, status, next_at, code, error)
WHERE o.id = v.id AND o.status = 'PENDING' AND o.claimed_until = %s
"""


def _record(outcomes: list[Outcome], lease_until: datetime) -> DeliveryTotals:
    """Write every outcome of a batch in one transaction, only where our lease still stands."""
    totals = DeliveryTotals(batches=1, claimed=len(outcomes))
    delivered = [outcome for outcome in outcomes if outcome.result is not None and outcome.result.ok]
    failed = [outcome for outcome in outcomes if outcome.result is not None and not outcome.result.ok]
    released = [outcome.event.pk for outcome in outcomes if outcome.result is None]
    failed_rows = []
    for outcome in failed:
        status, next_at = after_failure(failed_attempts=outcome.event.attempts + 1, created_at=outcome.event.created_at,
                                        give_up_at=outcome.event.give_up_at, now=outcome.at)
        failed_rows.append((outcome.event.pk, status, next_at, outcome.result.status_code, outcome.result.error))
        totals.dead += status == DeliveryStatus.DEAD
    with transaction.atomic(), connection.cursor() as cursor:
        if delivered:
            cursor.execute(_DELIVERED_SQL, [[o.event.pk for o in delivered], [o.at for o in delivered],
                                            [o.result.status_code for o in delivered], lease_until])
            if cursor.rowcount != len(delivered):
                logger.warning("CRM delivery: %d of %d delivered events had lost their lease (sent twice?)",
                               len(delivered) - cursor.rowcount, len(delivered))
        if failed_rows:
            cursor.execute(_FAILED_SQL, [*map(list, zip(*failed_rows, strict=True)), lease_until])
        if released:
            cursor.execute("UPDATE crm_outboxevent SET claimed_until = NULL WHERE id = ANY(%s) AND claimed_until = %s",
                           [released, lease_until])
    totals.delivered, totals.failed, totals.released = len(delivered), len(failed), len(released)
    _log_failures(failed_rows, failed)
    return totals


def _log_failures(failed_rows: list[tuple], failed: list[Outcome]) -> None:
    """Ids, types and status codes only: an answer body may echo payload data (personal data) back.

    Each dead letter gets its own error line; failures that will be retried get one line per batch
    (during a Fast Track outage a line per event would flood the logs).
    """
    reasons: dict[str, int] = {}
    for (pk, status, _, code, _), outcome in zip(failed_rows, failed, strict=True):
        reason = str(code) if code else outcome.result.error.split(":", 1)[0]
        if status == DeliveryStatus.DEAD:
            logger.error("CRM event %s (%s #%d) dead-lettered after attempt %d: %s", outcome.event.outbound.event_id,
                         outcome.event.outbound.event_type, pk, outcome.event.attempts + 1, reason)
        else:
            reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        retried = [outcome.event.outbound.event_id for (_, status, *_), outcome in zip(failed_rows, failed, strict=True)
                   if status != DeliveryStatus.DEAD]
        logger.warning("CRM delivery: %d events failed and will be retried (%s), e.g. %s", len(retried),
                       ", ".join(f"{reason} x{count}" for reason, count in sorted(reasons.items())),
                       ", ".join(retried[:3]))


# --- the loop ---------------------------------------------------------------------------------------

def delivery_batch(*, transport: Transport | None = None) -> DeliveryTotals:
    """Claim one batch of due events, send it, record the outcomes. Safe to run in many workers at once."""
    chains, lease_until = outbox_claim()
    if not chains:
        return DeliveryTotals()
    if len(chains) >= settings.CRM_DELIVERY_BATCH_PLAYERS:
        delivery_kick()  # a full batch: more is probably due, let another idle worker process join in
    transport = transport or transport_get()
    outcomes = _send(chains, transport, lease_until)
    totals = _record(outcomes, lease_until)
    retries = [outcome for outcome in outcomes if outcome.result is not None and not outcome.result.ok]
    if retries and totals.dead < len(retries):
        delay = retry_delay(min(outcome.event.attempts + 1 for outcome in retries)).total_seconds()
        if delay <= KICK_MAX_COUNTDOWN:
            delivery_kick(countdown=delay)
    return totals


def delivery_run(*, budget_seconds: float | None = None, transport: Transport | None = None) -> DeliveryTotals:
    """Deliver batches until nothing is due or the time budget is spent (then hand over to a fresh task)."""
    budget = settings.CRM_DELIVERY_RUN_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    totals = DeliveryTotals()
    while True:
        batch = delivery_batch(transport=transport)
        totals.add(batch)
        if not batch.claimed:
            return totals
        if not batch.delivered and not batch.failed:
            # Everything claimed was released unsent: the lease is too short for the timeouts. Do not spin.
            logger.error("CRM delivery: CRM_DELIVERY_LEASE_SECONDS is shorter than a send may take; nothing sent")
            return totals
        if time.monotonic() - started >= budget:
            delivery_kick()
            return totals


# --- kicking ----------------------------------------------------------------------------------------

def delivery_kick(*, countdown: float | None = None) -> None:
    """Ask a worker to deliver what is due (now, or after `countdown` seconds).

    Best effort: with Redis down the kick is lost, and the periodic sweep delivers the events instead.
    """
    from crm.tasks import crm_outbox_deliver  # tasks import this module

    try:
        crm_outbox_deliver.apply_async(queue=settings.CRM_DELIVERY_QUEUE, countdown=countdown, retry=False)
    except Exception as error:  # the events are safe in the outbox; only the prompt start is lost
        logger.warning("CRM delivery kick not published (%s); the sweep will deliver", type(error).__name__)


# By queue, the last coalescing window this process knows a kick is published for.
_kicked_window: dict[str, int] = {}
# How long after its window a kick runs: commits of the window on a host whose clock is behind the
# worker's by less than this are still seen by it (and the sweep delivers anything missed).
KICK_AFTER_WINDOW_MS = 10


def delivery_kick_coalesced() -> None:
    """The commit-time kick: at most one Celery task per CRM_DELIVERY_KICK_COALESCE_MS window.

    Windows are slices of the wall clock, the same in every process. The first commit of a window, in
    whichever process, sets the window's Redis key (SET NX) and publishes one task due just after the
    window's end; the window's later commits find the key and publish nothing. Each of them happened
    within the window, so before the task runs: the task finds its events. Publishing a task per commit
    cost a busy wallet about a sixth of its time per bet. A process asks Redis once per window at most:
    measured in a web process at 700 commits/s, asking again until the window's task was due (the key's
    remaining time) cost three times as many Redis calls.
    """
    window_ms = settings.CRM_DELIVERY_KICK_COALESCE_MS
    if window_ms <= 0:
        delivery_kick()
        return
    now_ms = time.time() * 1000
    window = _window_unkicked(now_ms)
    if window is None:
        return
    queue = settings.CRM_DELIVERY_QUEUE
    try:
        first = redis_client().set(f"crm:delivery-kick:{queue}:{window}", 1, nx=True, px=2 * window_ms)
    except Exception as error:  # without Redis the kick cannot be published either; the sweep delivers
        logger.warning("CRM delivery kick not coalesced (%s)", type(error).__name__)
        first = True
    if first:
        delivery_kick(countdown=((window + 1) * window_ms - now_ms + KICK_AFTER_WINDOW_MS) / 1000)
    _kicked_window[queue] = window


def delivery_kick_window() -> int | None:
    """The current coalescing window when this process does not know its kick to be published yet (so a
    commit now calls delivery_kick_coalesced), else None. No I/O: for a caller that runs the kick
    elsewhere (the wallet server's event loop hands it to a thread). Without coalescing, every call
    answers a new value: every commit kicks."""
    now_ms = time.time() * 1000
    return int(now_ms) if settings.CRM_DELIVERY_KICK_COALESCE_MS <= 0 else _window_unkicked(now_ms)


def _window_unkicked(now_ms: float) -> int | None:
    """The coalescing window of `now_ms`, or None when this process knows its kick is published."""
    window = int(now_ms // settings.CRM_DELIVERY_KICK_COALESCE_MS)
    return None if _kicked_window.get(settings.CRM_DELIVERY_QUEUE) == window else window


def delivery_kick_on_commit() -> None:
    """Kick delivery once after the current transaction commits, however many events it writes."""
    conn = transaction.get_connection()
    # Django keeps pending callbacks as (savepoint ids, callback, robust). One kick per transaction is
    # enough: a sweep over a thousand players must not publish a thousand tasks. If a savepoint
    # rollback drops the kick, the events recorded under it are gone too, and a later event re-adds it.
    if any(entry[1] is delivery_kick_coalesced for entry in getattr(conn, "run_on_commit", ())):
        return
    transaction.on_commit(delivery_kick_coalesced, robust=True)
