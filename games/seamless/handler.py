"""The seamless-wallet API's request handling, and the middleware that serves it ahead of the stack.

`seamless_call` is one provider request from raw headers and body to an answer: check the signature
(`signing.signature_check`) and spend the nonce (`signing.nonce_spend`) before reading the body, parse
the JSON exactly (decimals never through a float), check the input with the contract's serializers,
call one service of `games.services.play`, and turn a refusal into the contract's error body
(`{"error", "code", ...}` with the balance when the player is known).

`SeamlessWalletMiddleware`, first in settings.MIDDLEWARE, answers POSTs to /wallet-api/v1/<op> with
it directly. A provider's bet waits on this path, and the rest of the stack has nothing to give it
(no session, no CSRF, no user, no templates): measured on the bench machine, the other middleware,
URL resolution and DRF's dispatch cost about 1.3 ms of Python per call, more than the bet's own
work. Anything else on the prefix (a GET, an unknown operation) goes on to the DRF views in
`views.py`, which also document the contract in the OpenAPI schema and answer with the same core.
Servers that run `igaming.wsgi` (igaming/webserver.py, runserver) answer these POSTs earlier still, in front of
Django's handler (`games/seamless/wsgi.py`), with the same core and the same bytes and headers
(`answer_content`); the middleware serves what comes through Django's handler (the test client).
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import RequestDataTooBig
from django.core.serializers.json import DjangoJSONEncoder
from django.db import Error as DatabaseLibraryError
from django.db import connection
from django.http import HttpResponse

from games import exceptions as errors
from games.seamless import serializers
from games.seamless.signing import SignedRequest, nonce_spend, signature_check
from games.selectors import vendor_for_code
from games.services import play
from igaming.api_errors import error_body, field_errors
from igaming.parsers import json_loads_exact

PREFIX = "/wallet-api/v1/"

# Operation -> (input serializer, service).
OPERATIONS = {
    "authenticate": (serializers.TokenIn, play.seamless_authenticate),
    "balance": (serializers.TokenIn, play.seamless_balance),
    "bet": (serializers.BetIn, play.seamless_bet),
    "win": (serializers.WinIn, play.seamless_win),
    "rollback": (serializers.RollbackIn, play.seamless_rollback),
    "bet-win": (serializers.BetWinIn, play.seamless_bet_win),
}


def _json(body: bytes) -> dict:
    try:
        data = json_loads_exact(body)
    except ValueError as error:  # UnicodeDecodeError included
        raise errors.InvalidRequest(f"JSON parse error - {error}") from None
    if not isinstance(data, dict):
        raise errors.InvalidRequest("Send a JSON object.")
    return data


def _checked(input_serializer, data: dict) -> dict:
    validated = serializers.plain_input(input_serializer, data)
    if validated is not None:
        return validated
    serializer = input_serializer(data=data)
    if not serializer.is_valid():
        raise errors.InvalidRequest(fields=field_errors(serializer.errors))
    return serializer.validated_data


def seamless_call(operation: str, *, headers, body: bytes) -> tuple[int, dict]:
    """One signed provider call -> (HTTP status, answer body). Raises nothing the contract knows."""
    try:
        signed = signature_check(headers=headers, body=body)
    except errors.GamesError as error:
        return error_answer(error)
    return seamless_checked_call(operation, signed=signed, body=body)


def seamless_checked_call(operation: str, *, signed: SignedRequest, body: bytes,
                          maybe_spent: bool = False) -> tuple[int, dict]:
    """A call whose signature was checked: its nonce spent (a replay refused), then answered. With
    `maybe_spent`, a nonce found spent is no replay: the caller's own lost statement may have spent it."""
    try:
        _nonce_spent(signed, maybe_spent=maybe_spent)
    except errors.GamesError as error:
        return error_answer(error)
    return seamless_signed_call(operation, vendor_code=signed.vendor_code, body=body)


def _nonce_spent(signed: SignedRequest, *, maybe_spent: bool) -> None:
    """Spend the call's nonce. A dead connection is replaced and the insert made once more, a nonce then
    found spent taken for this call's own (the first insert may have committed before the connection
    died), as it is with `maybe_spent`. Raises RequestReplayed, or ServiceUnavailable when the database
    cannot record it."""
    try:
        _with_live_connection(_nonce_spend, again=_nonce_spend_after_a_lost_insert, signed=signed,
                              maybe_spent=maybe_spent)
    except DatabaseLibraryError:
        raise errors.ServiceUnavailable() from None  # without the replay check the call is not safe to take


def _nonce_spend(*, signed: SignedRequest, maybe_spent: bool) -> None:
    try:
        nonce_spend(signed=signed)
    except errors.RequestReplayed:
        if not maybe_spent:
            raise


def _nonce_spend_after_a_lost_insert(*, signed: SignedRequest, maybe_spent: bool) -> None:
    _nonce_spend(signed=signed, maybe_spent=True)


def seamless_signed_call(operation: str, *, vendor_code: str, body: bytes) -> tuple[int, dict]:
    """A call whose signature was checked and nonce spent -> (HTTP status, answer body)."""
    service = OPERATIONS[operation][1]
    try:
        vendor = vendor_for_code(vendor_code)
        if vendor is None:
            raise errors.UnknownProvider()
        answer = _with_live_connection(service, vendor=vendor, **call_arguments(operation, body))
    except errors.GamesError as error:
        return error_answer(error)
    return answer.status, answer.body


def call_arguments(operation: str, body: bytes) -> dict:
    """The operation's checked input from the raw body; raises InvalidRequest."""
    return _checked(OPERATIONS[operation][0], _json(body))


def error_answer(error: errors.GamesError) -> tuple[int, dict]:
    """A refusal as the contract's error body, with the balance when the player is known."""
    answer_body = error_body(error.message, error.code, error.fields)
    if error.player is not None:
        answer_body |= play.balance_of(error.player)
    return error.status_code, answer_body


def _with_live_connection(service, /, *, again=None, **arguments):
    """Run the service; if the database connection turns out dead (a restart, a failover), run it once
    more on a new one (or `again`, with the same arguments, where the second run must know of the first).
    Safe: every wallet call is idempotent by its ids, so a second run after a first that committed
    answers what the first did. This stands in for Django's per-request health check (a SELECT 1 before
    the first query), which the middleware skips on this path."""
    try:
        return service(**arguments)
    except DatabaseLibraryError:  # InterfaceError (connection closed) included
        if connection.connection is not None and connection.is_usable():
            raise
    connection.close()
    return (again or service)(**arguments)


def with_connection_upkeep(function, /, *args, **kwargs):
    """Run `function` on this thread's database connection, looked after as Django's request signals
    would (`close_old_connections`): a broken or too old connection is closed before and after. The
    per-request health check (a SELECT 1 before the first query) is skipped, a round trip saved on every
    call: seamless_call recovers from a dead connection itself."""
    connection.close_if_unusable_or_obsolete()
    connection.health_check_done = True
    try:
        return function(*args, **kwargs)
    finally:
        connection.close_if_unusable_or_obsolete()


def internal_error(operation: str, logger: logging.Logger) -> tuple[int, dict]:
    """What Django's handler would turn into a 500, with the API's error body; logged (call it in an except)."""
    logger.exception("seamless wallet %s failed", operation)
    return 500, error_body("Internal error.", "internal_error")


def seamless_operation(method: str, path: str) -> str | None:
    """The operation a request asks for, or None when it is not a provider's call (the views answer)."""
    operation = path[len(PREFIX):] if path.startswith(PREFIX) else None
    return operation if method == "POST" and operation in OPERATIONS else None


def too_large() -> tuple[int, dict]:
    return 400, error_body("The request body is too large.", errors.InvalidRequest.code)


def answer_content(body: dict) -> tuple[bytes, list[tuple[str, str]]]:
    """An answer's bytes and headers, the same whichever way in served it."""
    content = json.dumps(body, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    return content, [("Content-Type", "application/json"), ("Content-Length", str(len(content))),
                     ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]


def seamless_response(status: int, body: dict) -> HttpResponse:
    content, headers = answer_content(body)
    return HttpResponse(content, status=status, headers=dict(headers))


class SeamlessWalletMiddleware:
    """Serve POST /wallet-api/v1/<operation> without the rest of the middleware and DRF (see above), where
    a request comes through Django's handler (the test client; a server not using igaming.wsgi)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        operation = seamless_operation(request.method, request.path_info)
        if operation is None:
            return self.get_response(request)
        try:
            body = request.body
        except RequestDataTooBig:
            return seamless_response(*too_large())
        # A round trip saved on every call: seamless_call recovers from a dead connection itself.
        connection.health_check_done = True
        return seamless_response(*seamless_call(operation, headers=request.headers, body=body))
