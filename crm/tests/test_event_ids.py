"""Event ids are UUID version 7: the time they were made in milliseconds, then random bits.

Made in Python (`crm_event_record`) and in SQL (`crm_events_add`, which the wallet's fast statements call).
"""

from __future__ import annotations

import time
import uuid

from django.db import connection, transaction

from crm.event_ids import event_id_new
from crm.models import EventType, OutboxEvent
from crm.services import crm_event_record


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _database_now_ms() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint")
        return cursor.fetchone()[0]


def _assert_version_7_made_between(event_id: uuid.UUID, before_ms: int, after_ms: int) -> None:
    assert event_id.version == 7
    assert event_id.variant == uuid.RFC_4122
    assert before_ms <= event_id.int >> 80 <= after_ms  # its first 48 bits: Unix milliseconds


def _events_added_in_sql(player, count: int) -> list[OutboxEvent]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT crm_events_add(%s, now(), %s, %s::jsonb[])",
                       [player.pk, ["CUSTOM"] * count, ['{"user_id": "1"}'] * count])
    return list(OutboxEvent.objects.filter(player_id=player.pk).order_by("id"))


def test_a_python_event_id_is_version_7_and_carries_the_time_it_was_made():
    before = _now_ms()
    ids = [event_id_new() for _ in range(1000)]
    after = _now_ms()

    for event_id in ids:
        _assert_version_7_made_between(event_id, before, after)
    assert len(set(ids)) == 1000


def test_an_event_recorded_in_python_gets_a_version_7_id(player):
    before = _now_ms()
    with transaction.atomic():
        event = crm_event_record(event_type=EventType.USER_UPDATE, player=player)
    after = _now_ms()

    stored = OutboxEvent.objects.get(pk=event.pk)
    _assert_version_7_made_between(stored.event_id, before, after)


def test_events_added_in_sql_get_version_7_ids_of_the_time_they_were_written(player):
    before = _database_now_ms()  # the database's clock: the ids are made there
    events = _events_added_in_sql(player, 3)
    after = _database_now_ms()

    assert [event.event_type for event in events] == ["CUSTOM"] * 3
    for event in events:
        _assert_version_7_made_between(event.event_id, before, after)
    assert len({event.event_id for event in events}) == 3


def test_ids_made_later_sort_later_in_the_database(player):
    recorded = []
    for _ in range(3):
        with transaction.atomic():
            recorded.append(crm_event_record(event_type=EventType.USER_UPDATE, player=player).pk)
        time.sleep(0.002)
    for _ in range(3):
        recorded.append(_events_added_in_sql(player, 1)[-1].pk)
        time.sleep(0.002)

    python_made, sql_made = recorded[:3], recorded[3:]
    for made in (python_made, sql_made):
        events = OutboxEvent.objects.filter(pk__in=made)
        assert list(events.order_by("event_id").values_list("pk", flat=True)) == made
