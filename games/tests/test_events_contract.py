"""The events the games send validate against Fast Track's published schemas (copies in contract/)."""

import json
import re
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from django.db import connection

from crm.models import EventType, OutboxEvent
from games.tests.factories import signed_post

pytestmark = pytest.mark.django_db

CONTRACT = Path(__file__).resolve().parent / "contract"
_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
checker = jsonschema.FormatChecker()


@checker.checks("date-time", raises=ValueError)
def _rfc3339(value) -> bool:
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if isinstance(value, str) and not match:
        raise ValueError("not RFC 3339")
    if match:
        datetime(*(int(part) for part in match.groups()[:6]))
    return True


def validator(name: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads((CONTRACT / f"{name}.schema.json").read_text()),
                                      format_checker=checker)


SCHEMAS = {EventType.CASINO: "casino", EventType.CUSTOM: "custom",
           EventType.USER_BALANCES_UPDATE: "user_balances_update"}


def play_a_full_session(provider, player_api, token, session):
    """Bets, a win, a zero win, a bet-win, a refund and the close: every kind of event the games send."""
    def call(path, payload):
        response = signed_post(provider, path, {"token": token, "currency": "EUR", **payload})
        assert response.status_code == 200, response.json()

    call("bet", {"transaction_id": "b1", "round_id": "r1", "amount": "12.00"})
    call("win", {"transaction_id": "w1", "round_id": "r1", "amount": "3.50"})
    call("bet", {"transaction_id": "b2", "round_id": "r2", "amount": "1.00"})
    call("win", {"transaction_id": "w2", "round_id": "r2", "amount": "0"})
    call("bet-win", {"bet_transaction_id": "b3", "win_transaction_id": "w3", "round_id": "r3",
                     "bet_amount": "0.50", "win_amount": "1.25"})
    call("bet", {"transaction_id": "b4", "round_id": "r4", "amount": "2.00"})
    response = signed_post(provider, "rollback", {"token": token, "transaction_id": "rb4", "bet_transaction_id": "b4"})
    assert response.status_code == 200
    assert player_api.post(f"/api/v1/games/sessions/{session.pk}/close").status_code == 200


def test_every_event_of_a_game_session_validates_against_the_published_schema(
        provider, player_api, session_token, funded):
    session, token = session_token
    play_a_full_session(provider, player_api, token, session)
    events = list(OutboxEvent.objects.filter(player_id=funded.pk, event_type__in=SCHEMAS).order_by("id"))
    kinds = [event.event_type for event in events]
    assert kinds.count(EventType.CASINO) == 8  # 4 bets, 3 wins (one of them 0), 1 rollback
    assert kinds.count(EventType.CUSTOM) == 2
    assert kinds.count(EventType.USER_BALANCES_UPDATE) == 7  # every booking that moved money
    for event in events:
        errors = [error.message for error in validator(SCHEMAS[event.event_type]).iter_errors(event.payload)]
        assert errors == [], (event.event_type, event.payload, errors)


def test_casino_amounts_are_json_numbers_with_the_bets_real_and_bonus_parts(provider, player_api, session_token,
                                                                             funded):
    session, token = session_token
    play_a_full_session(provider, player_api, token, session)
    first = OutboxEvent.objects.filter(player_id=funded.pk, event_type=EventType.CASINO).order_by("id").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload::text FROM crm_outboxevent WHERE id = %s", [first.pk])
        text = cursor.fetchone()[0]
    assert '"amount": 12.00' in text and '"wager_amount": 10.00' in text and '"bonus_wager_amount": 2.00' in text
    payload = first.payload
    assert payload["amount"] == payload["wager_amount"] + payload["bonus_wager_amount"] + payload["locked_wager_amount"]
    assert payload["user_id"] == str(funded.pk) and payload["exchange_rate"] == 1
    assert (payload["game_id"], payload["vendor_id"], payload["game_type"]) == (
        session.game.code, "acme", "Slots")


def test_bet_and_win_of_a_round_share_the_round_id_and_each_has_its_own_activity_id(
        provider, player_api, session_token, funded):
    session, token = session_token
    play_a_full_session(provider, player_api, token, session)
    casino = [event.payload for event in
              OutboxEvent.objects.filter(player_id=funded.pk, event_type=EventType.CASINO).order_by("id")]
    approved = [payload for payload in casino if payload["status"] == "Approved"]
    assert len({payload["activity_id"] for payload in approved}) == len(approved)
    by_round = {}
    for payload in approved:
        by_round.setdefault(payload["round_id"], []).append(payload["type"])
    assert by_round == {"r1": ["Bet", "Win"], "r2": ["Bet", "Win"], "r3": ["Bet", "Win"], "r4": ["Bet"]}
    rollback = casino[-1]
    assert (rollback["status"], rollback["type"], rollback["activity_id"]) == ("Rollback", "Bet", "acme:b4")
    session_events = [event.payload for event in
                      OutboxEvent.objects.filter(player_id=funded.pk, event_type=EventType.CUSTOM).order_by("id")]
    ended = session_events[-1]["data"]
    assert (ended["rounds"], ended["total_bet"], ended["total_win"]) == (4, 13.5, 4.75)
