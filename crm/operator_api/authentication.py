"""The three ways Fast Track may authenticate to the Operator API, all backed by one OperatorApiKey.

- `X-Api-Key: <client_id>.<secret>`
- `Authorization: Basic base64(<client_id>:<secret>)`
- `Authorization: Bearer <token>` from POST /fasttrack/oauth/token (OAuth2 client credentials)

Each class returns `(OperatorApiKey, scheme)` or None when its header is absent; a header that is
present but wrong fails the request (401), it never falls through to another scheme.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, permissions
from rest_framework.exceptions import AuthenticationFailed

from crm.models import OperatorApiKey
from crm.operator_api import services
from crm.operator_api.exceptions import OperatorAuthFailed

WWW_AUTHENTICATE = 'Basic realm="fasttrack", Bearer realm="fasttrack"'


def _authorization(request) -> tuple[str, str] | None:
    header = authentication.get_authorization_header(request).decode("latin-1").strip()
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    return scheme.lower(), credentials.strip()


def basic_credentials(request) -> tuple[str, str] | None:
    """(client_id, secret) from a Basic header, None without one. Raises OperatorAuthFailed if garbled.

    RFC 6749 2.3.1 has clients form-encode both parts before base64, hence the unquote.
    """
    parsed = _authorization(request)
    if parsed is None or parsed[0] != "basic":
        return None
    try:
        decoded = base64.b64decode(parsed[1], validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OperatorAuthFailed() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise OperatorAuthFailed()
    return unquote(client_id), unquote(secret)


class _OperatorAuthentication(authentication.BaseAuthentication):
    scheme = ""

    def authenticate(self, request):
        try:
            key = self.check(request)
        except OperatorAuthFailed as error:
            raise AuthenticationFailed(error.message) from None
        return None if key is None else (key, self.scheme)

    def check(self, request) -> OperatorApiKey | None:
        raise NotImplementedError

    def authenticate_header(self, request):
        return WWW_AUTHENTICATE


class ApiKeyAuthentication(_OperatorAuthentication):
    scheme = "api-key"

    def check(self, request):
        value = request.META.get("HTTP_X_API_KEY")
        return None if value is None else services.operator_api_key_check_header(value)


class ClientBasicAuthentication(_OperatorAuthentication):
    scheme = "basic"

    def check(self, request):
        credentials = basic_credentials(request)
        return None if credentials is None else services.operator_api_key_check(
            client_id=credentials[0], secret=credentials[1])


class BearerTokenAuthentication(_OperatorAuthentication):
    scheme = "bearer"

    def check(self, request):
        parsed = _authorization(request)
        if parsed is None or parsed[0] != "bearer":
            return None
        return services.operator_token_check(parsed[1])


OPERATOR_AUTHENTICATION = [ApiKeyAuthentication, ClientBasicAuthentication, BearerTokenAuthentication]


class IsOperatorClient(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.user, OperatorApiKey)


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "crm.operator_api.authentication.ApiKeyAuthentication"
    name = "operatorApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Api-Key",
                "description": "`<client_id>.<secret>` from `manage.py operator_api_key create`."}


class ClientBasicScheme(OpenApiAuthenticationExtension):
    target_class = "crm.operator_api.authentication.ClientBasicAuthentication"
    name = "operatorBasic"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "client id as user name, secret as password."}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "crm.operator_api.authentication.BearerTokenAuthentication"
    name = "operatorOAuth2"

    def get_security_definition(self, auto_schema):
        return {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/fasttrack/oauth/token", "scopes": {}}}}
