"""The user events the platform sends validate against Fast Track's published schemas.

Checked twice: straight from the payload builder, and as the real services write them to the outbox.
"""

from datetime import UTC, datetime
from datetime import date as date_type

import pytest

from crm.fasttrack.events import build_payload
from crm.models import EventType, OutboxEvent
from crm.tests.fasttrack_schemas import errors
from players.models import ActorKind
from players.services.accounts import player_profile_update, player_register
from players.services.auth import player_impersonate, player_login
from players.services.blocks import player_block
from players.services.consents import player_consents_set
from players.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

SCHEMAS = {
    EventType.USER_CREATE: "user_create_v2",
    EventType.LOGIN: "login_v2",
    EventType.USER_UPDATE: "user_update_v2",
    EventType.USER_BLOCK: "user_block_v2",
    EventType.USER_CONSENTS: "user_consents_v2",
}
AT = datetime(2026, 11, 21, 13, 15, 30, 123000, tzinfo=UTC)


@pytest.mark.parametrize(("event_type", "data"), [
    (EventType.USER_CREATE, {"ip_address": "203.0.113.5", "user_agent": "Mozilla/5.0", "note": "welcome"}),
    (EventType.USER_CREATE, {}),
    (EventType.LOGIN, {"ip_address": "2001:db8::1", "user_agent": "Mozilla/5.0", "is_impersonated": True}),
    (EventType.LOGIN, {"ip_address": None, "user_agent": "", "is_impersonated": False}),
    (EventType.USER_UPDATE, {}),
    (EventType.USER_BLOCK, {}),
    (EventType.USER_CONSENTS, {}),
])
def test_each_user_event_builder_gives_a_body_valid_against_its_schema(player, event_type, data):
    player.origin = " test-casino.example "  # a stray space in the brand settings must not reach Fast Track

    body = build_payload(event_type, player=player, at=AT, data=data)

    assert errors(SCHEMAS[event_type], body) == []
    assert body["user_id"] == str(player.pk) and body["user_id"].isdigit()
    assert body["origin"] == "test-casino.example"
    assert body["timestamp"] == "2026-11-21T13:15:30.123Z"
    assert None not in body.values()


def test_the_events_the_services_write_to_the_outbox_are_all_valid(brand, compliance):
    player = player_register(username="contract1", email="contract1@example.com", password=PASSWORD,
                             birth_date=date_type(1990, 1, 1), country="MT", currency="EUR", brand=brand,
                             ip_address="203.0.113.5", user_agent="pytest")
    player_login(identifier="contract1", password=PASSWORD, ip_address="203.0.113.5", user_agent="pytest")
    player_impersonate(player=player, staff_user=compliance, ip_address=None)
    player_profile_update(player=player, changes={"city": "Valletta"})
    player_block(player=player, reason="Fraud", actor_user=compliance)
    player_consents_set(player=player, consents={"email": True}, actor_kind=ActorKind.PLAYER)

    events = list(OutboxEvent.objects.filter(player_id=player.pk).order_by("id"))

    assert [event.event_type for event in events] == [
        EventType.USER_CREATE, EventType.LOGIN, EventType.LOGIN, EventType.USER_UPDATE, EventType.USER_BLOCK,
        EventType.USER_CONSENTS]
    for event in events:
        assert errors(SCHEMAS[event.event_type], event.payload) == [], event.event_type
        assert event.payload["user_id"] == str(player.pk)
    assert [event.payload.get("is_impersonated") for event in events[1:3]] == [False, True]


@pytest.mark.parametrize("timestamp", ["2026-11-21 13:15:30Z", "2026-11-21T13:15:30", "2026-13-01T00:00:00Z", ""])
def test_the_schema_check_itself_refuses_a_timestamp_that_is_not_rfc_3339(timestamp):
    body = {"user_id": "1", "origin": "test-casino.example", "timestamp": timestamp}

    assert errors("user_update_v2", body) != []
    assert errors("user_update_v2", {**body, "timestamp": "2026-11-21T13:15:30.123Z"}) == []
