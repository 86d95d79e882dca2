"""The Operator API Fast Track calls (/fasttrack/...): parse input, call one selector or service, render.

Every answer, errors included, is `Cache-Control: no-store` and every error is the contract's
`{"error": <message>, "code": <int>}`; this module's own exception handler makes sure of both,
whatever goes wrong (the platform's handler answers a string code, which the contract forbids).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.operator_api import contract, selectors, serializers, services
from crm.operator_api.authentication import (
    OPERATOR_AUTHENTICATION,
    WWW_AUTHENTICATE,
    IsOperatorClient,
    basic_credentials,
)
from crm.operator_api.exceptions import OperatorAuthFailed, SessionNotFound, UnsupportedGrantType, UserNotFound
from igaming.errors import DomainError
from players import selectors as player_selectors
from players.api import client_ip
from players.models import ActorKind, Player
from players.services.consents import player_consents_set

logger = logging.getLogger(__name__)

TAGS = ["Fast Track Operator API"]

_ERROR_MEANINGS = {400: "Invalid input", 401: "Missing or wrong credentials", 404: "Unknown user or session",
                   501: "Unknown reconciliation field"}


def errors(*statuses: int) -> dict:
    return {status: OpenApiResponse(serializers.OperatorErrorOut, description=_ERROR_MEANINGS[status])
            for status in statuses}


def _messages(detail, prefix: str = "") -> list[str]:
    if isinstance(detail, dict):
        return [message for key, value in detail.items()
                for message in _messages(value, f"{prefix}{key}." if key != "non_field_errors" else prefix)]
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [f"{prefix.rstrip('.')}: {item}" if prefix else str(item) for item in detail]
        return [message for index, item in enumerate(detail) for message in _messages(item, f"{prefix}{index}.")]
    return [f"{prefix.rstrip('.')}: {detail}" if prefix else str(detail)]


def _error_response(message: str, status: int, headers: dict | None = None) -> Response:
    return Response(contract.error_body(message, status), status=status, headers=headers)


def exception_handler(exc, context):
    """Every error of the Operator API in the contract's shape, the HTTP status as its code."""
    if isinstance(exc, OperatorAuthFailed):
        return _error_response(exc.message, 401, {"WWW-Authenticate": WWW_AUTHENTICATE})
    if isinstance(exc, DomainError):
        message = "; ".join([exc.message, *_messages(exc.fields)]) if exc.fields else exc.message
        return _error_response(message, exc.status_code)
    if isinstance(exc, Http404):
        return _error_response("Not found.", 404)
    if isinstance(exc, PermissionDenied):
        return _error_response("You are not allowed to do this.", 403)
    if isinstance(exc, exceptions.ValidationError):
        return _error_response("Invalid input: " + "; ".join(_messages(exc.detail)), 400)
    if isinstance(exc, exceptions.APIException):
        headers = {"WWW-Authenticate": exc.auth_header} if getattr(exc, "auth_header", None) else None
        return _error_response(str(exc.detail), exc.status_code, headers)
    view = context.get("view")
    logger.exception("unhandled Operator API error in %s", view.__class__.__name__ if view else "?")
    return _error_response("Internal error.", 500)


class OperatorApiView(APIView):
    authentication_classes = OPERATOR_AUTHENTICATION
    permission_classes = [IsOperatorClient]
    throttle_classes = []

    def get_exception_handler(self):
        return exception_handler

    def get_authenticate_header(self, request):
        return WWW_AUTHENTICATE

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        add_never_cache_headers(response)
        return response


def _player(user_id: str) -> Player:
    player = player_selectors.player_get(user_id) if user_id.isdigit() else None
    if player is None:
        raise UserNotFound()
    return player


def _parse(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class UserDetailsView(OperatorApiView):
    @extend_schema(responses={200: serializers.OperatorUserDetailsOut, **errors(401, 404)},
                   summary="A player's profile", tags=TAGS)
    def get(self, request, user_id: str):
        player = _player(user_id)
        return Response(contract.user_details(player, player_selectors.player_block_flags(player)))


class UserBlocksView(OperatorApiView):
    @extend_schema(responses={200: serializers.OperatorUserBlocksOut, **errors(401, 404)}, summary="A player's blocks",
                   tags=TAGS)
    def get(self, request, user_id: str):
        return Response(contract.user_blocks(player_selectors.player_block_flags(_player(user_id))))


class UserConsentsView(OperatorApiView):
    @extend_schema(responses={200: serializers.OperatorUserConsentsOut, **errors(401, 404)},
                   summary="A player's consents", tags=TAGS)
    def get(self, request, user_id: str):
        return Response(contract.user_consents(_player(user_id)))

    @extend_schema(request=serializers.OperatorConsentsIn,
                   responses={200: serializers.OperatorUserConsentsOut, **errors(400, 401, 404)},
                   summary="Change consents (Fast Track's unsubscribe page)", tags=TAGS)
    def post(self, request, user_id: str):
        player = _player(user_id)
        data = _parse(serializers.OperatorConsentsIn, request.data)
        player = player_consents_set(
            player=player, consents={item["type"]: item["opted_in"] for item in data["consents"]},
            actor_kind=ActorKind.CRM, source="fasttrack", ip_address=client_ip(request),
        )
        return Response(contract.user_consents(player))


class ReconciliationView(OperatorApiView):
    @extend_schema(request=serializers.OperatorReconciliationIn,
                   responses={200: serializers.OperatorReconciliationOut, **errors(400, 401, 501)},
                   summary="Ids of the players for whom a flag is true", tags=TAGS)
    def post(self, request):
        field = _parse(serializers.OperatorReconciliationIn, request.data)["field"]
        at = timezone.now()
        return Response(contract.reconciliation(selectors.users_for_reconciliation(field, at), at))


class AuthenticateView(OperatorApiView):
    @extend_schema(request=serializers.OperatorAuthenticateIn,
                   responses={200: serializers.OperatorAuthenticateOut, **errors(400, 401, 404)},
                   summary="The user id behind a session id", tags=TAGS)
    def post(self, request):
        player = selectors.player_for_sid(_parse(serializers.OperatorAuthenticateIn, request.data)["sid"])
        if player is None:
            raise SessionNotFound()
        return Response(contract.authenticated_user(player))


class TokenView(OperatorApiView):
    """OAuth2 client credentials (RFC 6749 4.4). Errors carry the RFC's code as their message."""

    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=serializers.OperatorTokenIn, responses={200: serializers.OperatorTokenOut,
                                                                    **errors(400, 401)},
                   summary="Exchange a client id and secret for a bearer token", tags=TAGS, auth=[])
    def post(self, request):
        try:
            data = _parse(serializers.OperatorTokenIn, request.data)
        except exceptions.ValidationError:
            return _error_response("invalid_request", 400)
        if data["grant_type"] != "client_credentials":
            raise UnsupportedGrantType("unsupported_grant_type")
        try:
            from_header = basic_credentials(request)
            in_form = (data.get("client_id", ""), data.get("client_secret", ""))
            if from_header and any(in_form):
                return _error_response("invalid_request", 400)  # RFC 6749 2.3: one method at a time
            client_id, secret = from_header or in_form
            key = services.operator_api_key_check(client_id=client_id, secret=secret)
        except OperatorAuthFailed:
            raise OperatorAuthFailed("invalid_client") from None
        token = services.operator_token_issue(key=key)
        response = Response({"access_token": token.access_token, "expires_in": token.expires_in,
                             "token_type": token.token_type})
        response["Pragma"] = "no-cache"
        return response


def not_found(request, *args, **kwargs):
    """Unknown paths under the Operator API prefixes, in the contract's error shape."""
    response = JsonResponse(contract.error_body("Not found.", 404), status=404)
    add_never_cache_headers(response)
    return response
