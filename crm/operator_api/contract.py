"""Fast Track's Operator API contract: the one place that knows the shape of its bodies.

Built to Fast Track's published JSON schemas (a copy lives in `simulators/fasttrack/schemas/`,
checked by the tests): every key present, "" where a value is unknown (never null), user ids as
strings of digits, dates in RFC 3339, errors as `{"error": <message>, "code": <int>}`.
"""

from __future__ import annotations

from datetime import datetime

from crm.fasttrack.events import rfc3339
from players.models import CONSENT_FIELDS, ConsentChannel, Player
from players.selectors import BlockFlags

# The reconciliation fields Fast Track may ask for, and the player flag each one reads.
RECONCILIATION_CONSENT_FIELDS = {
    "consent_email": "consent_email",
    "consent_sms": "consent_sms",
    "consent_telephone": "consent_telephone",
    "consent_post_mail": "consent_post_mail",
    "consent_site_notification": "consent_site_notification",
    "consent_push_notification": "consent_push_notification",
}
RECONCILIATION_FIELDS = ("blocked", "excluded", *RECONCILIATION_CONSENT_FIELDS)
CONSENT_TYPES = tuple(channel.value for channel in ConsentChannel)


def error_body(message: str, status: int) -> dict:
    """The contract's error body: the HTTP status doubles as the integer code."""
    return {"error": message, "code": int(status)}


def _text(value) -> str:
    return "" if value is None else str(value)


def user_details(player: Player, flags: BlockFlags) -> dict:
    """GET userdetails/{id}: exactly the schema's keys (it forbids any other), "" for unknowns."""
    return {
        "user_id": str(player.pk),
        "username": _text(player.username),
        "email": _text(player.email),
        "title": _text(player.title),
        "first_name": _text(player.first_name),
        "last_name": _text(player.last_name),
        "sex": _text(player.sex),
        "birth_date": player.birth_date.isoformat() if player.birth_date else "",
        "address": _text(player.address),
        "city": _text(player.city),
        "postal_code": _text(player.postal_code),
        "country": _text(player.country).upper(),
        "mobile_prefix": _text(player.mobile_prefix),
        "mobile": _text(player.mobile),
        "language": _text(player.language),
        "currency": _text(player.currency),
        "market": _text(player.market or player.brand.default_market),
        "origin": _text(player.origin).strip(),
        "affiliate_reference": _text(player.affiliate_reference),
        "registration_code": _text(player.registration_code),
        "registration_date": rfc3339(player.registered_at),
        "verified_at": rfc3339(player.verified_at) if player.verified_at else "",
        "is_blocked": flags.is_blocked,
        "is_excluded": flags.is_excluded,
        "roles": [str(role) for role in player.roles or []],
    }


def user_blocks(flags: BlockFlags) -> dict:
    """GET userblocks/{id}: always the two items, `Blocked` and `Excluded` (case matters)."""
    return {"blocks": [
        {"type": "Blocked", "active": flags.is_blocked, "note": _text(flags.blocked_note)},
        {"type": "Excluded", "active": flags.is_excluded, "note": _text(flags.excluded_note)},
    ]}


def user_consents(player: Player) -> dict:
    """GET userconsents/{id}: all six channels, in the contract's order."""
    return {"consents": [
        {"type": channel.value, "opted_in": bool(getattr(player, field))}
        for channel, field in CONSENT_FIELDS.items()
    ]}


def reconciliation(user_ids, at: datetime) -> dict:
    return {"users": [str(user_id) for user_id in user_ids], "timestamp": rfc3339(at)}


def authenticated_user(player: Player) -> dict:
    return {"user_id": str(player.pk)}
