"""The base of every domain error. Each app's `exceptions.py` subclasses it.

The API layer maps a DomainError to its HTTP status with the stable body
`{"error": <message>, "code": <code>}`; the admin shows the message to staff.
"""


class DomainError(Exception):
    status_code = 400
    code = "invalid"
    default_message = "The request was refused."

    def __init__(self, message: str | None = None, *, fields: dict | None = None):
        self.message = message or self.default_message
        self.fields = fields or {}
        super().__init__(self.message)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class PermissionRefused(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = "You are not allowed to do this."
