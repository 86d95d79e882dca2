"""Fast Track real-time event bodies: the one place that knows their shape.

Each builder returns the JSON body of one event type as Fast Track publishes it. Common to all:
`user_id` (a string of digits), `timestamp` (RFC 3339 UTC) and `origin` (the brand's domain).
User events are slim (Fast Track calls the Operator API back for the details); transactional
events carry their full payload, passed in as `data` by the service that causes them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from crm.models import EventType


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and a Z: 2026-11-21T13:15:30.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _common(player, at: datetime) -> dict:
    return {"user_id": str(player.pk), "timestamp": rfc3339(at), "origin": player.origin.strip()}


# Optional keys each user event may carry; anything else in `data` is a programming error.
_USER_EVENT_OPTIONAL_KEYS = {
    EventType.USER_CREATE: {"note", "user_agent", "ip_address"},
    EventType.LOGIN: {"ip_address", "user_agent", "is_impersonated"},
    EventType.USER_UPDATE: set(),
    EventType.USER_BLOCK: set(),
    EventType.USER_CONSENTS: set(),
}


def build_payload(event_type: str, *, player, at: datetime, data: dict | None = None) -> dict:
    data = {key: value for key, value in (data or {}).items() if value not in (None, "")}
    body = _common(player, at)
    allowed = _USER_EVENT_OPTIONAL_KEYS.get(event_type)
    if allowed is not None:
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"{event_type} does not carry {sorted(unknown)}")
    body.update(data)
    return body
