"""One exception handler for every DRF view: a stable JSON error body and nothing else.

Body: `{"error": <human message>, "code": <stable machine code>, "fields": {<field>: [<message>]}}`
(`fields` only for input errors). Contract modules with their own error shape (Fast Track wants an
integer code) render their errors themselves.
"""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

from igaming.errors import DomainError

logger = logging.getLogger(__name__)


def error_body(message: str, code: str, fields: dict | None = None) -> dict:
    body = {"error": message, "code": code}
    if fields:
        body["fields"] = fields
    return body


def field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: [str(item) for item in (value if isinstance(value, list) else [value])]
                for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return Response(error_body(exc.message, exc.code, exc.fields), status=exc.status_code)
    if isinstance(exc, Http404):
        return Response(error_body("Not found.", "not_found"), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response(error_body("You are not allowed to do this.", "forbidden"), status=403)
    if isinstance(exc, exceptions.ValidationError):
        return Response(error_body("Invalid input.", "invalid", field_errors(exc.detail)), status=400)
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        return Response(error_body(str(exc.detail), code), status=exc.status_code, headers=headers)
    logger.exception("unhandled API error in %s", context.get("view").__class__.__name__)
    return Response(error_body("Internal error.", "internal_error"), status=500)


def json_not_found(request, exception=None):
    return JsonResponse(error_body("Not found.", "not_found"), status=404)


def json_server_error(request):
    return JsonResponse(error_body("Internal error.", "internal_error"), status=500)
