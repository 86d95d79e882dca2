"""Player API (/api/v1/players/): parse input, call one service, render output."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import logout as django_logout
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from players import selectors, serializers
from players.middleware import SESSION_PLAYER_KEY
from players.models import ActorKind, BlockKind, PlayerBlock
from players.services import accounts, auth, blocks, consents, limits

ERROR = OpenApiResponse(description='`{"error": ..., "code": ..., "fields": {...}}`')


def client_ip(request) -> str | None:
    # Behind a proxy, set the proxy to overwrite REMOTE_ADDR; X-Forwarded-For is not trusted here.
    return request.META.get("REMOTE_ADDR")


def user_agent(request) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:500]


def parse(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class RegisterView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=serializers.RegisterIn, responses={201: serializers.PlayerOut, 400: ERROR},
                   summary="Register a player")
    def post(self, request):
        data = parse(serializers.RegisterIn, request.data)
        player = accounts.player_register(**data, ip_address=client_ip(request), user_agent=user_agent(request))
        return Response(serializers.PlayerOut(player).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(request=serializers.LoginIn, responses={200: serializers.LoginOut, 401: ERROR, 429: ERROR},
                   summary="Log in and get an API token")
    def post(self, request):
        data = parse(serializers.LoginIn, request.data)
        result = auth.player_login(identifier=data["username"], password=data["password"],
                                   ip_address=client_ip(request), user_agent=user_agent(request),
                                   channel="api", issue_token=True)
        return Response({"player_id": str(result.player.pk), "token": result.token,
                         "expires_in_days": settings.PLAYER_TOKEN_TTL_DAYS})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Revoke the token, or end the site session")
    def post(self, request):
        if isinstance(request.auth, str):
            auth.player_token_revoke(key=request.auth)
        else:
            request.session.pop(SESSION_PLAYER_KEY, None)
            django_logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: serializers.PlayerOut}, summary="The logged-in player's profile")
    def get(self, request):
        return Response(serializers.PlayerOut(request.user).data)

    @extend_schema(request=serializers.ProfileIn, responses={200: serializers.PlayerOut, 400: ERROR},
                   summary="Change profile fields")
    def patch(self, request):
        data = parse(serializers.ProfileIn, request.data)
        player = accounts.player_profile_update(player=request.user, changes=data)
        return Response(serializers.PlayerOut(player).data)


def consents_body(player) -> dict:
    return {"consents": [{"type": channel, "opted_in": value} for channel, value in player.consents().items()]}


class ConsentsView(APIView):
    @extend_schema(responses={200: serializers.ConsentsOut}, summary="The six marketing consents")
    def get(self, request):
        return Response(consents_body(request.user))

    @extend_schema(request=serializers.ConsentsIn, responses={200: serializers.ConsentsOut, 400: ERROR},
                   summary="Change consents")
    def put(self, request):
        data = parse(serializers.ConsentsIn, request.data)
        player = consents.player_consents_set(
            player=request.user, consents={item["type"]: item["opted_in"] for item in data["consents"]},
            actor_kind=ActorKind.PLAYER, ip_address=client_ip(request), source="api",
        )
        return Response(consents_body(player))

    patch = put


class LimitsView(APIView):
    @extend_schema(responses={200: serializers.LimitOut(many=True)}, summary="Limits in force and pending")
    def get(self, request):
        return Response(serializers.LimitOut(selectors.player_limits(request.user), many=True).data)

    @extend_schema(request=serializers.LimitIn, responses={200: serializers.LimitOut(many=True), 400: ERROR},
                   summary="Set or remove a limit (stricter at once, looser after cooling-off)")
    def post(self, request):
        data = parse(serializers.LimitIn, request.data)
        limits.player_limit_set(player=request.user, kind=data["kind"], period=data["period"], value=data["value"])
        return Response(serializers.LimitOut(selectors.player_limits(request.user), many=True).data)


def _active_blocks(player, kinds):
    return PlayerBlock.objects.active().filter(player=player, kind__in=kinds).order_by("-starts_at")


class SelfExclusionView(APIView):
    @extend_schema(responses={200: serializers.BlockOut(many=True)}, summary="Active self-exclusions")
    def get(self, request):
        active = _active_blocks(request.user, [BlockKind.SELF_EXCLUSION])
        return Response(serializers.BlockOut(active, many=True).data)

    @extend_schema(request=serializers.SelfExclusionIn, responses={201: serializers.BlockOut, 400: ERROR, 409: ERROR},
                   summary="Self-exclude (at least 30 days, or indefinitely)")
    def post(self, request):
        data = parse(serializers.SelfExclusionIn, request.data)
        block = blocks.player_self_exclude(player=request.user, until=data["until"])
        return Response(serializers.BlockOut(block).data, status=status.HTTP_201_CREATED)


class TimeoutView(APIView):
    @extend_schema(responses={200: serializers.BlockOut(many=True)}, summary="Active time-outs")
    def get(self, request):
        return Response(serializers.BlockOut(_active_blocks(request.user, [BlockKind.TIMEOUT]), many=True).data)

    @extend_schema(request=serializers.TimeoutIn, responses={201: serializers.BlockOut, 400: ERROR},
                   summary="Take a break (1 hour to 42 days)")
    def post(self, request):
        data = parse(serializers.TimeoutIn, request.data)
        block = blocks.player_timeout(player=request.user, duration=timedelta(hours=data["hours"]))
        return Response(serializers.BlockOut(block).data, status=status.HTTP_201_CREATED)
