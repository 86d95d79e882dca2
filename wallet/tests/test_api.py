"""The player wallet API: authentication, exact amounts, idempotency, clear 4xx that write nothing."""

import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from crm.models import EventType, OutboxEvent
from players.models import LimitKind, LimitPeriod
from players.services.blocks import player_block
from players.services.limits import player_limit_set
from wallet.models import LedgerTransaction, Payment, PaymentStatus
from wallet.tests.factories import deposit_approved, withdrawal_requested

pytestmark = pytest.mark.django_db


def post_json(client, url, body, key="key-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(url, data=body if isinstance(body, str | bytes) else json.dumps(body),
                       content_type="application/json", headers=headers)


def nothing_written():
    return not Payment.objects.exists() and not LedgerTransaction.objects.exists() and \
        not OutboxEvent.objects.filter(event_type=EventType.PAYMENT).exists()


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/api/v1/wallet/balance"), ("get", "/api/v1/wallet/deposits"), ("post", "/api/v1/wallet/deposits"),
    ("get", "/api/v1/wallet/withdrawals"), ("post", "/api/v1/wallet/withdrawals"),
    ("post", "/api/v1/wallet/withdrawals/1/cancel"), ("get", "/api/v1/wallet/transactions"),
])
def test_every_wallet_endpoint_needs_a_logged_in_player(db, method, url):
    response = getattr(APIClient(), method)(url)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_balance_of_a_new_player_is_zero_in_their_currency(player_api):
    response = player_api.get("/api/v1/wallet/balance")

    assert response.status_code == 200
    assert response.json() == {"currency": "EUR", "real_money": "0.00", "bonus_money": "0.00",
                               "withdrawal_hold": "0.00"}


def test_a_deposit_returns_the_psp_page_to_send_the_player_to(player_api, player, settings):
    settings.PSP_PUBLIC_URL = "http://psp.example"

    response = post_json(player_api, "/api/v1/wallet/deposits", {"amount": "25.00", "currency": "EUR"})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["amount"], body["kind"]) == ("Requested", "25.00", "DEPOSIT")
    assert body["redirect_url"].startswith("http://psp.example/pay?")
    assert f"merchant_reference={body['id']}" in body["redirect_url"] and "signature=" in body["redirect_url"]
    assert Payment.objects.get().amount == Decimal("25.00")


def test_a_json_number_amount_is_read_exactly_not_as_a_float(player_api, player):
    response = post_json(player_api, "/api/v1/wallet/deposits", '{"amount": 0.3, "currency": "EUR"}')

    assert response.status_code == 201, response.json()
    assert Payment.objects.get().amount == Decimal("0.30")


@pytest.mark.parametrize(("body", "field"), [
    ('{"amount": 10.005, "currency": "EUR"}', "amount"),
    ('{"amount": NaN, "currency": "EUR"}', None),
    ('{"amount": Infinity, "currency": "EUR"}', None),
    ('{"amount": 1e400, "currency": "EUR"}', "amount"),
    ('{"amount": "1e2", "currency": "EUR"}', "amount"),
    ('{"amount": "ten", "currency": "EUR"}', "amount"),
    ('{"amount": true, "currency": "EUR"}', "amount"),
    ('{"amount": null, "currency": "EUR"}', "amount"),
    ('{"amount": [1], "currency": "EUR"}', "amount"),
    ('{"amount": -5, "currency": "EUR"}', "amount"),
    ('{"amount": 0, "currency": "EUR"}', "amount"),
    ('{"amount": "10.00", "currency": "USD"}', "currency"),
    ('{"amount": "10.00"}', "currency"),
    ('{"amount": 99999999999999999999999999, "currency": "EUR"}', "amount"),
    ('[1, 2]', None),
    ('{"amount": "10.00", ', None),
])
def test_bad_deposit_input_gets_a_400_and_writes_nothing(player_api, body, field):
    response = post_json(player_api, "/api/v1/wallet/deposits", body)

    assert response.status_code == 400, response.json()
    error = response.json()
    assert error["code"] in ("invalid", "parse_error") and error["error"]
    if field:
        assert field in error["fields"]
    assert nothing_written()


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 101, "ünïcode"])
def test_a_money_call_without_a_valid_idempotency_key_is_refused(player_api, key):
    response = player_api.post("/api/v1/wallet/deposits", {"amount": "10.00", "currency": "EUR"}, format="json",
                               headers={"Idempotency-Key": key} if key is not None else {})

    assert response.status_code == 400
    assert "idempotency_key" in response.json()["fields"]
    assert nothing_written()


def test_a_replayed_deposit_returns_the_first_result(player_api):
    first = post_json(player_api, "/api/v1/wallet/deposits", {"amount": "25.00", "currency": "EUR"})
    again = post_json(player_api, "/api/v1/wallet/deposits", {"amount": 25, "currency": "EUR"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert Payment.objects.count() == 1


def test_the_same_key_for_another_amount_is_a_409(player_api):
    post_json(player_api, "/api/v1/wallet/deposits", {"amount": "25.00", "currency": "EUR"})

    response = post_json(player_api, "/api/v1/wallet/deposits", {"amount": "26.00", "currency": "EUR"})

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert Payment.objects.get().amount == Decimal("25.00")


def test_a_deposit_over_the_limit_is_refused_with_what_is_left(player_api, player):
    player_limit_set(player=player, kind=LimitKind.DEPOSIT, period=LimitPeriod.DAY, value="50.00")
    deposit_approved(player, "40.00")

    response = post_json(player_api, "/api/v1/wallet/deposits", {"amount": "20.00", "currency": "EUR"})

    assert response.status_code == 403
    assert response.json()["code"] == "deposit_limit_exceeded"
    assert "10.00 EUR" in response.json()["fields"]["amount"][0]
    assert Payment.objects.count() == 1


def test_a_blocked_player_cannot_deposit_through_the_api(player_api, player, compliance):
    player_block(player=player, reason="investigation", actor_user=compliance)

    response = post_json(player_api, "/api/v1/wallet/deposits", {"amount": "20.00", "currency": "EUR"})

    assert response.status_code == 403
    assert response.json()["code"] == "deposits_not_allowed"
    assert nothing_written()


def test_a_withdrawal_holds_the_money_and_can_be_cancelled(player_api, player):
    deposit_approved(player, "100.00")

    created = post_json(player_api, "/api/v1/wallet/withdrawals", {"amount": "60.00", "currency": "EUR"}, key="w-1")
    balance = player_api.get("/api/v1/wallet/balance").json()
    cancelled = player_api.post(f"/api/v1/wallet/withdrawals/{created.json()['id']}/cancel")

    assert created.status_code == 201 and created.json()["status"] == "Requested"
    assert (balance["real_money"], balance["withdrawal_hold"]) == ("40.00", "60.00")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "Cancelled"
    assert player_api.get("/api/v1/wallet/balance").json()["real_money"] == "100.00"


def test_a_withdrawal_above_the_balance_is_a_409(player_api, player):
    deposit_approved(player, "10.00")

    response = post_json(player_api, "/api/v1/wallet/withdrawals", {"amount": "10.01", "currency": "EUR"})

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"
    assert Payment.objects.filter(kind="WITHDRAWAL").count() == 0


def test_a_player_cannot_see_or_cancel_another_players_payments(player_api, player, brand):
    from players.tests.factories import PlayerFactory

    other = PlayerFactory(brand=brand)
    deposit_approved(other, "50.00")
    withdrawal = withdrawal_requested(other, "20.00")

    assert player_api.get(f"/api/v1/wallet/withdrawals/{withdrawal.pk}").status_code == 404
    assert player_api.post(f"/api/v1/wallet/withdrawals/{withdrawal.pk}/cancel").status_code == 404
    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.REQUESTED


def test_lists_and_history_are_paginated_newest_first(player_api, player):
    for amount in ("1.00", "2.00", "3.00"):
        deposit_approved(player, amount)

    deposits = player_api.get("/api/v1/wallet/deposits?limit=2").json()
    history = player_api.get("/api/v1/wallet/transactions?limit=2").json()

    assert deposits["count"] == 3 and [item["amount"] for item in deposits["results"]] == ["3.00", "2.00"]
    assert history["count"] == 3 and history["next"]
    newest = history["results"][0]
    assert (newest["kind"], newest["amount"]) == ("DEPOSIT", "3.00")
    assert newest["entries"] == [{"account": "REAL", "amount": "3.00", "balance_after": "6.00"}]


def test_the_schema_documents_the_wallet_endpoints(db):
    response = APIClient().get("/api/schema/", {"format": "json"})

    paths = response.json()["paths"]
    assert {"/api/v1/wallet/balance", "/api/v1/wallet/deposits", "/api/v1/wallet/withdrawals",
            "/api/v1/wallet/transactions", "/api/v1/psp/webhook"} <= set(paths)
