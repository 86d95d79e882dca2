"""The seamless API's middleware answers providers' POSTs itself; everything else reaches the DRF views."""

import pytest
from django.db import connection

from games.models import GameTransaction
from games.tests.factories import signed_post


def bet_payload(token, tx="b1"):
    return {"token": token, "transaction_id": tx, "round_id": "r1", "amount": "1.00", "currency": "EUR"}


@pytest.mark.django_db
def test_a_bet_is_answered_with_its_length_and_not_to_be_cached(provider, session_token):
    _, token = session_token

    response = signed_post(provider, "bet", bet_payload(token))

    assert response.status_code == 200
    assert int(response["Content-Length"]) == len(response.content)
    assert response["Cache-Control"] == "no-store" and response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_get_reaches_the_drf_view_and_is_refused_as_json(provider, vendor):
    response = provider.get("/wallet-api/v1/bet")

    assert response.status_code == 405 and "error" in response.json()


@pytest.mark.django_db
def test_a_body_that_is_not_a_json_object_is_an_invalid_request(provider, session_token):
    for payload in ([1, 2], "bet"):
        response = signed_post(provider, "bet", payload)
        assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
    assert GameTransaction.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_call_on_a_connection_the_database_dropped_is_run_again_on_a_new_one(provider, game, player):
    from games.tests.factories import fund, launch

    fund(player, real="10.00")
    _, token = launch(player, game)
    signed_post(provider, "balance", {"token": token})  # the connection is open now
    connection.connection.close()  # as a database restart leaves it: Django still holds it

    response = signed_post(provider, "bet", bet_payload(token))

    assert response.status_code == 200 and response.json()["balance"] == "9.00"
    assert GameTransaction.objects.filter(external_id="b1").count() == 1


@pytest.mark.django_db
def test_a_plain_bet_is_read_without_a_serializer_and_a_bad_one_gets_the_serializers_errors(
        provider, session_token, monkeypatch):
    from games.seamless import serializers

    _, token = session_token
    built = []
    real_init = serializers.BetIn.__init__
    monkeypatch.setattr(serializers.BetIn, "__init__",
                        lambda self, *args, **kwargs: built.append(1) or real_init(self, *args, **kwargs))

    taken = signed_post(provider, "bet", bet_payload(token))
    refused = signed_post(provider, "bet", {**bet_payload(token, tx="b2"), "round_id": 12, "currency": None})

    assert taken.status_code == 200 and built == [1]  # only the refused body built one
    assert refused.status_code == 400
    assert refused.json()["code"] == "INVALID_REQUEST"
    assert set(refused.json()["fields"]) == {"currency"}  # 12 is a valid id for the serializer: "12"
