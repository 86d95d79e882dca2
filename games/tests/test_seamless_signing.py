"""Signed provider requests: a tampered, a stale, a replayed or an unsigned request is refused and writes nothing."""

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from games.models import GameTransaction, RequestNonce
from games.seamless.signing import sign, signed_headers
from games.tests.factories import VENDOR_CODE, VENDOR_SECRET
from wallet.models import Account, AccountKind

pytestmark = pytest.mark.django_db


def real_balance(player) -> Decimal:
    return Account.objects.get(player=player, kind=AccountKind.REAL).balance


def bet_body(token: str, tx: str = "bet-1") -> bytes:
    return json.dumps({"token": token, "transaction_id": tx, "round_id": "r-1", "amount": "1.00",
                       "currency": "EUR"}).encode()


def post(provider, body: bytes, headers: dict):
    return provider.post("/wallet-api/v1/bet", data=body, content_type="application/json", headers=headers)


def test_a_correctly_signed_bet_is_taken(provider, session_token, funded):
    _, token = session_token
    body = bet_body(token)
    response = post(provider, body, signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body))
    assert response.status_code == 200
    assert real_balance(funded) == Decimal("9.00")


def test_a_tampered_body_is_refused_with_invalid_signature(provider, session_token, funded):
    _, token = session_token
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=bet_body(token))
    tampered = bet_body(token).replace(b'"1.00"', b'"0.01"')
    response = post(provider, tampered, headers)
    assert response.status_code == 401
    assert response.json() == {"error": "The request signature is not valid.", "code": "INVALID_SIGNATURE"}
    assert real_balance(funded) == Decimal("10.00")


def test_a_signature_with_another_secret_is_refused(provider, session_token, funded):
    _, token = session_token
    body = bet_body(token)
    response = post(provider, body, signed_headers(vendor=VENDOR_CODE, secret="guessed", body=body))
    assert response.status_code == 401 and response.json()["code"] == "INVALID_SIGNATURE"
    assert real_balance(funded) == Decimal("10.00")


# Timestamps are whole seconds, so a stamp made 301 s ahead may be only 300.x s ahead when checked.
@pytest.mark.parametrize("skew", [-302, 302])
def test_a_timestamp_more_than_five_minutes_away_is_refused(provider, session_token, funded, skew):
    _, token = session_token
    body = bet_body(token)
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body, timestamp=int(time.time()) + skew)
    response = post(provider, body, headers)
    assert response.status_code == 401 and response.json()["code"] == "REQUEST_EXPIRED"
    assert real_balance(funded) == Decimal("10.00")


def test_a_replayed_request_is_refused_even_though_its_signature_is_valid(provider, session_token, funded):
    _, token = session_token
    body = bet_body(token)
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    assert post(provider, body, headers).status_code == 200
    replayed = post(provider, body, headers)
    assert replayed.status_code == 401 and replayed.json()["code"] == "REQUEST_REPLAYED"
    assert real_balance(funded) == Decimal("9.00")


def test_a_retry_of_the_same_transaction_is_a_new_signed_request_and_gets_the_first_answer(
        provider, session_token, funded):
    _, token = session_token
    body = bet_body(token)
    first = post(provider, body, signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body))
    retry = post(provider, body, signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body))
    assert retry.status_code == 200 and retry.json() == first.json()
    assert real_balance(funded) == Decimal("9.00")


def test_missing_headers_or_an_unknown_provider_are_refused(provider, session_token):
    _, token = session_token
    body = bet_body(token)
    assert post(provider, body, {}).json()["code"] == "UNKNOWN_PROVIDER"
    stamp, nonce = str(int(time.time())), "nonce-123456"
    unknown = {"X-Provider": "nobody", "X-Timestamp": stamp, "X-Nonce": nonce,
               "X-Signature": sign("x", stamp, nonce, body)}
    assert post(provider, body, unknown).status_code == 401
    assert post(provider, body, unknown).json()["code"] == "UNKNOWN_PROVIDER"
    no_signature = {"X-Provider": VENDOR_CODE, "X-Timestamp": stamp, "X-Nonce": nonce}
    assert post(provider, body, no_signature).json()["code"] == "INVALID_SIGNATURE"
    bad_nonce = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body, nonce="short")
    assert post(provider, body, bad_nonce).json()["code"] == "INVALID_SIGNATURE"


def test_a_disabled_vendor_is_refused(provider, session_token, vendor):
    from games.selectors import vendor_cache_clear

    vendor.enabled = False
    vendor.save()
    vendor_cache_clear()
    _, token = session_token
    body = bet_body(token)
    response = post(provider, body, signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body))
    assert response.status_code == 401 and response.json()["code"] == "UNKNOWN_PROVIDER"


def test_a_vendor_cannot_use_another_vendors_session(provider, session_token):
    from games.tests.factories import VendorFactory

    VendorFactory(code="demo", name="Other vendor")
    _, token = session_token
    body = bet_body(token)
    response = post(provider, body, signed_headers(vendor="demo", secret="demo-test-secret", body=body))
    assert response.status_code == 401 and response.json()["code"] == "INVALID_TOKEN"


def test_a_get_on_the_wallet_api_is_refused_as_json(provider, vendor):
    response = provider.get("/wallet-api/v1/nope")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_nonce_cannot_be_recorded_gets_a_503_and_writes_nothing(provider, session_token, funded):
    _, token = session_token
    body = bet_body(token)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE games_requestnonce RENAME TO games_requestnonce_away")
    try:
        response = post(provider, body, signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE games_requestnonce_away RENAME TO games_requestnonce")

    assert response.status_code == 503
    assert response.json()["code"] == "SERVICE_UNAVAILABLE"
    assert real_balance(funded) == Decimal("10.00")
    assert not GameTransaction.objects.exists()


def test_a_nonce_is_kept_for_twice_the_signatures_window_then_purged(provider, session_token, funded, settings):
    from games.seamless.signing import request_nonces_purge
    from games.tasks import games_request_nonces_purge

    _, token = session_token
    now = timezone.now()
    window = timedelta(seconds=settings.GAME_SIGNATURE_MAX_SKEW_SECONDS)
    RequestNonce.objects.bulk_create([
        RequestNonce(vendor_code=VENDOR_CODE, nonce="old-nonce-1", spent_at=now - 2 * window - timedelta(seconds=1)),
        RequestNonce(vendor_code=VENDOR_CODE, nonce="kept-nonce-1", spent_at=now - 2 * window + timedelta(seconds=5)),
    ])
    body = bet_body(token)
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    assert post(provider, body, headers).status_code == 200

    assert request_nonces_purge(now=now) == 1
    assert games_request_nonces_purge() == 0  # what the beat runs: nothing more is old enough
    assert sorted(RequestNonce.objects.values_list("nonce", flat=True)) == sorted(["kept-nonce-1", headers["X-Nonce"]])
    assert post(provider, body, headers).json()["code"] == "REQUEST_REPLAYED"
    purge = settings.CELERY_BEAT_SCHEDULE["games-request-nonces-purge"]
    assert purge["task"] == "games.tasks.games_request_nonces_purge"


def test_a_call_answered_again_after_its_lost_statement_takes_a_spent_nonce_for_its_own(session_token, funded):
    from games.seamless.handler import seamless_checked_call
    from games.seamless.signing import signature_check

    _, token = session_token
    body = bet_body(token)
    signed = signature_check(headers=signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body), body=body)
    # As the wallet server's statement leaves it when its connection dies after the commit: the nonce spent.
    RequestNonce.objects.create(vendor_code=VENDOR_CODE, nonce=signed.nonce, spent_at=timezone.now())

    replayed = seamless_checked_call("bet", signed=signed, body=body)
    status, answer = seamless_checked_call("bet", signed=signed, body=body, maybe_spent=True)

    assert replayed[1]["code"] == "REQUEST_REPLAYED"
    assert status == 200 and answer["balance"] == "14.00" and real_balance(funded) == Decimal("9.00")


@pytest.mark.django_db(transaction=True)
def test_a_dead_database_connection_is_replaced_before_the_nonce_is_spent(session_token, funded):
    from django.db import connections

    from games.seamless.handler import seamless_call

    _, token = session_token
    body = bet_body(token)
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()

    status, answer = seamless_call("bet", headers=headers, body=body)
    replayed = seamless_call("bet", headers=headers, body=body)

    assert status == 200 and real_balance(funded) == Decimal("9.00")
    assert replayed[1]["code"] == "REQUEST_REPLAYED"
