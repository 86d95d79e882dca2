"""The seamless API at the WSGI layer (games/seamless/wsgi.py): what the web server runs, in front of Django.

These tests run with autocommit (transaction=True), as a server does: the app looks after the database
connection between calls as Django's request signals would, which a test's open transaction forbids.
"""

from __future__ import annotations

import io
import json
import logging
from decimal import Decimal

import pytest
from django.db import connection

from games.models import GameTransaction
from games.seamless.signing import signed_headers
from games.seamless.wsgi import SeamlessWalletApp
from games.tests.factories import VENDOR_CODE, VENDOR_SECRET, fund, launch, signed_post


class Passed:
    """The app behind: records what reached it."""

    def __init__(self):
        self.paths = []

    def __call__(self, environ, start_response):
        self.paths.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        start_response("204 No Content", [])
        return [b""]


def wsgi_call(app, method: str, path: str, body: bytes = b"", headers: dict | None = None,
              content_length: str | None = None):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SERVER_NAME": "testserver", "SERVER_PORT": "80",
               "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
               "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length}
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started = {}

    def start_response(status, response_headers):
        started["status"], started["headers"] = status, dict(response_headers)

    content = b"".join(app(environ, start_response))
    return started["status"], started["headers"], content


def signed_call(app, operation: str, payload: dict):
    body = json.dumps(payload).encode()
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    return wsgi_call(app, "POST", f"/wallet-api/v1/{operation}", body, headers)


def bet_payload(token, tx="b1"):
    return {"token": token, "transaction_id": tx, "round_id": "r1", "amount": "1.00", "currency": "EUR"}


@pytest.fixture
def played(game, player):
    fund(player, real="10.00")
    _, token = launch(player, game)
    return token


@pytest.mark.django_db(transaction=True)
def test_a_call_is_answered_in_front_of_django_with_the_middlewares_bytes_and_headers(played, provider):
    app = SeamlessWalletApp(Passed())
    signed_post(provider, "bet", bet_payload(played))
    through_django = signed_post(provider, "bet", bet_payload(played))  # a retry: the stored answer

    status, headers, content = signed_call(app, "bet", bet_payload(played))  # the same retry here

    assert status == "200 OK" and content == through_django.content
    assert headers == {name: through_django[name] for name in headers}
    assert set(headers) == {"Content-Type", "Content-Length", "Cache-Control", "X-Content-Type-Options"}
    assert int(headers["Content-Length"]) == len(content) and headers["Cache-Control"] == "no-store"
    assert GameTransaction.objects.filter(external_id="b1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_new_bet_is_booked_and_a_refusal_carries_the_contracts_status_and_body(played):
    app = SeamlessWalletApp(Passed())

    status, _, content = signed_call(app, "bet", bet_payload(played))
    refused_status, _, refused = signed_call(app, "bet", {**bet_payload(played, tx="b2"), "amount": "100.00"})

    assert status == "200 OK" and json.loads(content)["balance"] == "9.00"
    assert refused_status == "402 Payment Required"
    assert json.loads(refused)["code"] == "INSUFFICIENT_FUNDS"
    assert json.loads(refused)["balance"] == "9.00"


def test_anything_but_a_providers_post_goes_to_the_app_behind():
    behind = Passed()
    app = SeamlessWalletApp(behind)

    for method, path in (("GET", "/wallet-api/v1/bet"), ("POST", "/wallet-api/v1/nope"), ("POST", "/api/v1/x"),
                         ("GET", "/health")):
        status, _, _ = wsgi_call(app, method, path)
        assert status == "204 No Content"

    assert behind.paths == [("GET", "/wallet-api/v1/bet"), ("POST", "/wallet-api/v1/nope"),
                            ("POST", "/api/v1/x"), ("GET", "/health")]


def test_a_body_over_the_upload_limit_is_refused_unread(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    app = SeamlessWalletApp(Passed())

    status, _, content = wsgi_call(app, "POST", "/wallet-api/v1/bet", b"x" * 101)

    assert status == "400 Bad Request"
    assert json.loads(content)["code"] == "INVALID_REQUEST"


@pytest.mark.django_db(transaction=True)
def test_a_missing_or_unreadable_length_is_an_empty_body(played):
    app = SeamlessWalletApp(Passed())
    for length in ("", "abc"):
        status, _, content = wsgi_call(app, "POST", "/wallet-api/v1/balance", b'{"token": "x"}',
                                       content_length=length)
        assert status == "401 Unauthorized"  # no signature headers: refused before the body matters
        assert json.loads(content)["code"] == "UNKNOWN_PROVIDER"


@pytest.mark.django_db(transaction=True)
def test_an_unexpected_error_is_a_logged_500_with_the_apis_error_body(played, monkeypatch, caplog):
    from games.seamless import wsgi

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(wsgi, "seamless_call", broken)
    app = SeamlessWalletApp(Passed())

    with caplog.at_level(logging.ERROR, logger="games.seamless.wsgi"):
        status, _, content = signed_call(app, "bet", bet_payload(played))

    assert status == "500 Internal Server Error"
    assert json.loads(content) == {"error": "Internal error.", "code": "internal_error"}
    assert "seamless wallet bet failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_call_on_a_connection_the_database_dropped_is_run_again_on_a_new_one(played):
    app = SeamlessWalletApp(Passed())
    signed_call(app, "balance", {"token": played})  # the connection is open now
    connection.connection.close()  # as a database restart leaves it: Django still holds it

    status, _, content = signed_call(app, "bet", bet_payload(played))

    assert status == "200 OK" and Decimal(json.loads(content)["balance"]) == Decimal("9.00")
    assert GameTransaction.objects.filter(external_id="b1").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_connection_past_its_max_age_is_replaced_before_the_next_call(played):
    app = SeamlessWalletApp(Passed())
    signed_call(app, "balance", {"token": played})
    old = connection.connection
    connection.close_at = 0  # as CONN_MAX_AGE leaves it once the age is reached

    status, _, _ = signed_call(app, "balance", {"token": played})

    assert status == "200 OK"
    assert old.closed and connection.connection is not old


def test_the_wsgi_application_serves_the_wallet_in_front_of_django():
    import gc

    from igaming.wsgi import FrozenAfterWarmUp, application

    gc.unfreeze()  # what importing the module froze, in this test process
    assert isinstance(application, FrozenAfterWarmUp) and isinstance(application.app, SeamlessWalletApp)
