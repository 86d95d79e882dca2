"""The player's games API (/api/v1/games/): the catalog, launching a game, and the game sessions."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from games import selectors, serializers
from games.exceptions import SessionNotFound
from games.services import sessions
from games.services.play import balance_of
from players.api import client_ip

ERROR = OpenApiResponse(description='`{"error": ..., "code": ...}`; codes: GAME_NOT_FOUND, GAME_UNAVAILABLE, '
                                    "PLAYER_BLOCKED, LIMIT_REACHED, SESSION_NOT_FOUND")
TAGS = ["games"]


def session_body(session) -> dict:
    check = selectors.session_reality_check(session, timezone.now())
    return serializers.SessionOut(session, context={"reality_check": check}).data | {
        "balance": balance_of(session.player)}


class CatalogView(APIView):
    @extend_schema(tags=TAGS, responses={200: serializers.GameOut(many=True)},
                   summary="The games the player may play (enabled, allowed in their country)")
    def get(self, request):
        games = selectors.game_catalog(country=request.user.country)
        return Response(serializers.GameOut(games, many=True).data)


class LaunchView(APIView):
    @extend_schema(tags=TAGS, request=None, responses={201: serializers.LaunchOut, 403: ERROR, 404: ERROR},
                   summary="Launch a game: a new game session and the provider's launch URL")
    def post(self, request, game_id: int):
        launch = sessions.game_launch(player=request.user, game_id=game_id, ip_address=client_ip(request))
        return Response({"session": session_body(launch.session), "launch_url": launch.launch_url},
                        status=status.HTTP_201_CREATED)


class SessionsView(APIView):
    @extend_schema(tags=TAGS, responses={200: serializers.SessionOut(many=True)},
                   summary="The player's recent game sessions")
    def get(self, request):
        recent = selectors.player_sessions(request.user)[:20]
        return Response([session_body(session) for session in recent])


class SessionView(APIView):
    @extend_schema(tags=TAGS, responses={200: serializers.SessionOut, 404: ERROR},
                   summary="A game session: status, totals and the reality check")
    def get(self, request, session_id: int):
        session = selectors.session_for_player(request.user, session_id)
        if session is None:
            raise SessionNotFound()
        return Response(session_body(session))


class SessionCloseView(APIView):
    @extend_schema(tags=TAGS, request=None, responses={200: serializers.SessionOut, 404: ERROR},
                   summary="Close a game session")
    def post(self, request, session_id: int):
        session = sessions.game_session_close(player=request.user, session_id=session_id)
        return Response(session_body(session))


class RealityCheckView(APIView):
    @extend_schema(tags=TAGS, request=None, responses={200: serializers.SessionOut, 404: ERROR},
                   summary="Acknowledge the reality check and play on")
    def post(self, request, session_id: int):
        session = sessions.game_session_reality_check_ack(player=request.user, session_id=session_id)
        return Response(session_body(session))
