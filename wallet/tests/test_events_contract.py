"""The wallet's Fast Track events against Fast Track's published schemas (copies in ./contract)."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
from django.db import connection

from crm.models import EventType, OutboxEvent
from wallet.services import payments
from wallet.tests.factories import deposit_approved, withdrawal_requested

pytestmark = pytest.mark.django_db
CONTRACT = Path(__file__).parent / "contract"


def validator(name):
    schema = json.loads((CONTRACT / f"{name}.schema.json").read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def stored_text(event) -> str:
    """The payload as PostgreSQL keeps it (and as delivery sends it)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload::text FROM crm_outboxevent WHERE id = %s", [event.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def every_wallet_event(player, compliance):
    """One of each: deposit Requested/Approved/Rollback, withdrawal Requested/Cancelled/Approved/Rollback."""
    deposit = deposit_approved(player, "120.50")
    cancelled = withdrawal_requested(player, "10.00")
    payments.withdrawal_cancel(player=player, payment_id=cancelled.pk)
    paid = withdrawal_requested(player, "20.25")
    payments.withdrawal_approve(payment_id=paid.pk, actor=compliance, reason="ok")
    payments.withdrawal_payout_failed(payment_id=paid.pk, reason="closed")
    payments.deposit_rollback(payment_id=deposit.pk, reason="chargeback")
    return OutboxEvent.objects.filter(player_id=player.pk).order_by("id")


def test_every_payment_event_matches_the_published_schema(every_wallet_event):
    events = [event for event in every_wallet_event if event.event_type == EventType.PAYMENT]
    check = validator("payment")

    for event in events:
        assert list(check.iter_errors(json.loads(stored_text(event)))) == [], event.payload
    assert [(e.payload["type"], e.payload["status"]) for e in events] == [
        ("Credit", "Requested"), ("Credit", "Approved"), ("Debit", "Requested"), ("Debit", "Cancelled"),
        ("Debit", "Requested"), ("Debit", "Approved"), ("Debit", "Rollback"), ("Credit", "Rollback")]


def test_every_balance_event_matches_the_published_schema(every_wallet_event):
    events = [event for event in every_wallet_event if event.event_type == EventType.USER_BALANCES_UPDATE]
    check = validator("user_balances_update")

    for event in events:
        assert list(check.iter_errors(json.loads(stored_text(event)))) == [], event.payload
    assert [e.payload["balances"][0]["amount"] for e in events] == [120.5, 110.5, 120.5, 100.25, 120.5, 0]


def test_amounts_are_stored_as_exact_json_numbers_never_strings(every_wallet_event):
    text = stored_text(every_wallet_event.filter(event_type=EventType.PAYMENT).first())

    assert re.search(r'"amount": 120\.50[,}]', text), text
    assert '"exchange_rate": 1' in text and '"amount": "' not in text


def test_payment_events_carry_the_common_fields(every_wallet_event, player):
    payload = every_wallet_event.filter(event_type=EventType.PAYMENT).first().payload

    assert payload["user_id"] == str(player.pk) and payload["origin"] == player.origin
    assert payload["vendor_id"] == "psp-simulator" and payload["currency"] == "EUR"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["timestamp"])


def test_the_outbox_encoder_writes_decimals_as_exact_numbers_and_leaves_strings_alone():
    from decimal import Decimal

    from crm.models import ExactNumberEncoder

    payload = {"amount": Decimal("10.50"), "btc": Decimal("0.00000001"), "debit": Decimal("-5.00"),
               "big": Decimal("1E+3"), "nested": [{"rate": Decimal("0.0061")}], "text": "\\u0000decimal:1",
               "count": 3}

    text = json.dumps(payload, cls=ExactNumberEncoder)

    assert text == ('{"amount": 10.50, "btc": 0.00000001, "debit": -5.00, "big": 1000, "nested": [{"rate": 0.0061}], '
                    '"text": "\\\\u0000decimal:1", "count": 3}')
    assert json.loads(text, parse_float=Decimal)["amount"] == Decimal("10.50")
    with pytest.raises(ValueError):
        json.dumps({"amount": Decimal("NaN")}, cls=ExactNumberEncoder)
