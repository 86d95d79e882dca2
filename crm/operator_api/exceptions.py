"""Errors of the Operator API and of its credentials.

The Operator API renders every error as Fast Track's contract wants it: `{"error": <message>,
"code": <int>}` with the HTTP status as the integer code (see `contract.error_body`).
"""

from igaming.errors import DomainError, NotFound


class OperatorAuthFailed(DomainError):
    """Missing, malformed, unknown, wrong or revoked credentials. Never says which."""

    status_code = 401
    code = "unauthorized"
    default_message = "Invalid or missing credentials."


class OperatorKeyNotFound(NotFound):
    code = "operator_key_not_found"
    default_message = "No Operator API key with that client id."


class OperatorKeyAlreadyRevoked(DomainError):
    status_code = 409
    code = "operator_key_revoked"
    default_message = "This Operator API key is already revoked."


class OperatorKeyNameInvalid(DomainError):
    code = "invalid"
    default_message = "A key needs a name of 1 to 100 characters."


class UnsupportedGrantType(DomainError):
    code = "unsupported_grant_type"
    default_message = "Only grant_type=client_credentials is supported."


class UserNotFound(NotFound):
    code = "user_not_found"
    default_message = "User not found."


class SessionNotFound(NotFound):
    code = "session_not_found"
    default_message = "No live session or token matches this sid."


class ReconciliationFieldUnsupported(DomainError):
    status_code = 501
    code = "not_implemented"
    default_message = "This reconciliation field is not supported."
