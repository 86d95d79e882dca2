"""DRF authentication for players: an API token, or the site's session (with CSRF)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, permissions
from rest_framework.exceptions import AuthenticationFailed

from players.models import Player
from players.services.auth import player_for_token


class PlayerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <key>` (or `Bearer <key>`) from POST /api/v1/players/login."""

    keywords = ("token", "bearer")

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Malformed Authorization header.")
        key = parts[1].decode(errors="replace")
        player = player_for_token(key)
        if player is None:
            raise AuthenticationFailed("Invalid or expired token.")
        return player, key

    def authenticate_header(self, request):
        return "Token"


class PlayerSessionAuthentication(authentication.SessionAuthentication):
    """The browser's session, set by the site's login; unsafe methods need the CSRF token."""

    def authenticate(self, request):
        player = getattr(request._request, "player", None)
        if player is None:
            return None
        self.enforce_csrf(request)
        return player, None


class IsPlayer(permissions.BasePermission):
    message = "Log in as a player first."

    def has_permission(self, request, view):
        return isinstance(request.user, Player)


class PlayerTokenScheme(OpenApiAuthenticationExtension):
    target_class = PlayerTokenAuthentication
    name = "playerToken"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Token <key>` from POST /api/v1/players/login"}


class PlayerSessionScheme(OpenApiAuthenticationExtension):
    target_class = PlayerSessionAuthentication
    name = "playerSession"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "The player site's session (unsafe methods also need the CSRF token)"}
