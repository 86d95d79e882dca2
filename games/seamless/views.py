"""The seamless-wallet API (/wallet-api/v1/) as DRF views: game providers call it for every bet and win.

These views carry the contract into the OpenAPI schema and answer with the shared core
(`handler.seamless_call`: signature, input, one service, the error body). In a running platform a
POST reaches `handler.SeamlessWalletMiddleware` first, which answers it with the same core without
the rest of the stack; the views answer what the middleware passes on (other methods, unknown
operations) with the project's JSON errors; the contract's own errors come from the core.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from games import exceptions as errors
from games.seamless import serializers
from games.seamless.handler import seamless_call

SIGNATURE_HEADERS = [
    OpenApiParameter("X-Provider", str, OpenApiParameter.HEADER, required=True, description="Your vendor code."),
    OpenApiParameter("X-Timestamp", str, OpenApiParameter.HEADER, required=True,
                     description="Unix time in seconds; refused when more than 5 minutes from ours (REQUEST_EXPIRED)."),
    OpenApiParameter("X-Nonce", str, OpenApiParameter.HEADER, required=True,
                     description="8-64 characters [A-Za-z0-9_-], new for every request; a repeat is REQUEST_REPLAYED."),
    OpenApiParameter("X-Signature", str, OpenApiParameter.HEADER, required=True,
                     description='Hex HMAC-SHA256 with your secret of `<timestamp> "." <nonce> "." <raw body>` '
                                 "(INVALID_SIGNATURE otherwise)."),
]


def _error(*classes) -> OpenApiResponse:
    codes = ", ".join(f"`{cls.code}`" for cls in classes)
    return OpenApiResponse(serializers.ErrorOut, description=f"`{{\"error\", \"code\", ...balance}}`; code: {codes}")


AUTH_ERRORS = (errors.UnknownProvider, errors.InvalidSignature, errors.RequestExpired, errors.RequestReplayed,
               errors.InvalidToken)


def _responses(ok, *more: type[errors.GamesError]) -> dict:
    by_status: dict[int, list] = {400: [errors.InvalidRequest], 401: list(AUTH_ERRORS),
                                  503: [errors.ServiceUnavailable]}
    for cls in more:
        by_status.setdefault(cls.status_code, []).append(cls)
    return {200: ok, **{status: _error(*classes) for status, classes in sorted(by_status.items())}}


class SeamlessView(APIView):
    """Signed provider calls: no session, no CSRF, no player token; the signature is the credential."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    operation = ""

    def post(self, request):
        status, body = seamless_call(self.operation, headers=request.headers, body=request.body)
        return Response(body, status=status)


TAGS = ["seamless wallet"]


@extend_schema_view(post=extend_schema(
    tags=TAGS, parameters=SIGNATURE_HEADERS, request=serializers.TokenIn,
    responses=_responses(serializers.AuthenticateOut, errors.SessionExpired, errors.PlayerBlocked),
    summary="Session token -> player, currency and balance",
))
class AuthenticateView(SeamlessView):
    operation = "authenticate"


@extend_schema_view(post=extend_schema(
    tags=TAGS, parameters=SIGNATURE_HEADERS, request=serializers.TokenIn,
    responses=_responses(serializers.BalanceOut), summary="The player's balance",
))
class BalanceView(SeamlessView):
    operation = "balance"


BET_ERRORS = (errors.CurrencyMismatch, errors.InsufficientFunds, errors.SessionExpired, errors.PlayerBlocked,
              errors.LimitReached, errors.GameUnavailable, errors.DuplicateTransaction, errors.TransactionRolledBack,
              errors.RoundClosed)


@extend_schema_view(post=extend_schema(
    tags=TAGS, parameters=SIGNATURE_HEADERS, request=serializers.BetIn,
    responses=_responses(serializers.BetOut, *BET_ERRORS),
    summary="Debit a bet (real money first, then bonus money)",
    description="Idempotent by `transaction_id`: a retry gets the first answer; the same id with other "
                "content is `DUPLICATE_TRANSACTION`. Refused on an ended session (`SESSION_EXPIRED`) and "
                "after a rollback of the same id (`TRANSACTION_ROLLED_BACK`). `reality_check` is present "
                "when the player's reality check is due.",
    examples=[OpenApiExample("bet", request_only=True, value={
        "token": "session-token", "transaction_id": "bet-1001", "round_id": "r-77", "amount": "1.00",
        "currency": "EUR"})],
))
class BetView(SeamlessView):
    operation = "bet"


@extend_schema_view(post=extend_schema(
    tags=TAGS, parameters=SIGNATURE_HEADERS, request=serializers.WinIn,
    responses=_responses(serializers.WinOut, errors.CurrencyMismatch, errors.DuplicateTransaction,
                         errors.RoundNotFound, errors.RoundClosed),
    summary="Credit a win into real money (0 closes a losing round)",
    description="Idempotent by `transaction_id`. Accepted after the session ended.",
))
class WinView(SeamlessView):
    operation = "win"


@extend_schema_view(post=extend_schema(
    tags=TAGS, parameters=SIGNATURE_HEADERS, request=serializers.RollbackIn,
    responses=_responses(serializers.RollbackOut, errors.DuplicateTransaction, errors.TransactionNotFound,
                         errors.TransactionRolledBack),
    summary="Refund a bet, at most once",
    description="Idempotent by `transaction_id`. Accepted after the session ended. A rollback of a bet we "
                "never took answers `TRANSACTION_NOT_FOUND` (404) and is remembered: the bet, if it "
                "arrives later, is refused with `TRANSACTION_ROLLED_BACK`.",
))
class RollbackView(SeamlessView):
    operation = "rollback"


@extend_schema_view(post=extend_schema(
    tags=TAGS, parameters=SIGNATURE_HEADERS, request=serializers.BetWinIn,
    responses=_responses(serializers.BetWinOut, *BET_ERRORS, errors.RoundNotFound),
    summary="Settle a bet and its win together (both or neither)",
    description="Each part is idempotent by its own id; the round is closed.",
))
class BetWinView(SeamlessView):
    operation = "bet-win"
