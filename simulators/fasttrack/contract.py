"""Fast Track's contract as the simulator checks it: the published schemas, and the event routes.

Validators are compiled once at import. `date-time` is checked strictly as RFC 3339 here (the
jsonschema package skips that format unless an extra package is installed).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import jsonschema

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|([+-])(\d{2}):(\d{2}))$"
)

FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def is_rfc3339(instance) -> bool:
    if not isinstance(instance, str):
        return True
    match = _RFC3339.match(instance)
    if not match:
        raise ValueError("not an RFC 3339 date-time")
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    datetime(year, month, day, hour, minute, min(second, 59))  # leap second 60 is allowed by RFC 3339
    if match.group(8) and (int(match.group(8)) > 23 or int(match.group(9)) > 59):
        raise ValueError("bad offset")
    return True


@FORMAT_CHECKER.checks("date", raises=ValueError)
def is_date(instance) -> bool:
    if not isinstance(instance, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", instance):
        raise ValueError("not YYYY-MM-DD")
    date.fromisoformat(instance)
    return True


def _load(path: Path) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(path.read_text()), format_checker=FORMAT_CHECKER)


VALIDATORS: dict[str, jsonschema.Draft7Validator] = {
    path.name.removesuffix(".schema.json"): _load(path) for path in sorted(SCHEMA_DIR.rglob("*.schema.json"))
}


def schema_errors(name: str, document) -> list[str]:
    """Messages of every way `document` breaks schema `name` (e.g. "payment", "user_details")."""
    errors = sorted(VALIDATORS[name].iter_errors(document), key=lambda error: list(error.absolute_path))
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in errors]


def event_rule_errors(document) -> list[str]:
    """What Fast Track's integration guide adds to the schemas for every real-time event."""
    if not isinstance(document, dict):
        return []
    errors = []
    user_id = document.get("user_id")
    if isinstance(user_id, str) and user_id and not user_id.isdigit():
        errors.append("user_id: must be a string of digits (Fast Track reads it as a 32-bit integer)")
    elif isinstance(user_id, str) and user_id.isdigit() and int(user_id) > 2**31 - 1:
        errors.append("user_id: does not fit a 32-bit integer")
    origin = document.get("origin")
    if isinstance(origin, str) and origin != origin.strip():
        errors.append("origin: must not have surrounding spaces")
    return errors


@dataclass(frozen=True)
class EventRoute:
    event_type: str
    schema: str
    # Operator API endpoints Fast Track calls back after this event, as it does on a real integration.
    callbacks: tuple[str, ...] = ()


# (method, path) -> route. Paths are Fast Track's real-time REST integration API.
EVENT_ROUTES: dict[tuple[str, str], EventRoute] = {
    ("POST", "/v2/integration/user"): EventRoute(
        "USER_CREATE_V2", "user_create_v2", ("userdetails", "userblocks", "userconsents")),
    ("PUT", "/v2/integration/user"): EventRoute("USER_UPDATE_V2", "user_update_v2", ("userdetails",)),
    ("POST", "/v2/integration/login"): EventRoute("LOGIN_V2", "login_v2", ("userdetails",)),
    ("PUT", "/v2/integration/user/blocks"): EventRoute("USER_BLOCK_V2", "user_block_v2", ("userblocks",)),
    ("PUT", "/v2/integration/user/consents"): EventRoute("USER_CONSENTS_V2", "user_consents_v2", ("userconsents",)),
    ("POST", "/v1/integration/payment"): EventRoute("PAYMENT", "payment"),
    ("POST", "/v1/integration/casino"): EventRoute("CASINO", "casino"),
    ("POST", "/v1/integration/bonus"): EventRoute("BONUS", "bonus"),
    ("POST", "/v1/integration/user/balances"): EventRoute("USER_BALANCES_UPDATE", "user_balances_update"),
    ("POST", "/v1/integration/custom"): EventRoute("CUSTOM", "custom"),
    ("POST", "/v1/integration/sportsbook"): EventRoute("SPORTSBOOK", "sportsbook"),
}
EVENT_PATHS = {path for _, path in EVENT_ROUTES}

# Operator API endpoint -> schema of its answer.
CALLBACK_SCHEMAS = {"userdetails": "user_details", "userblocks": "user_blocks", "userconsents": "user_consents"}
