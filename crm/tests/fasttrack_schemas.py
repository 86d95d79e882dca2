"""Fast Track's published JSON schemas as test data, read from the copy the simulator ships.

Platform code never reads these files; tests use them to prove that what the platform answers
and sends is what Fast Track validates against. `date-time` and `date` are checked strictly (the
jsonschema package skips date-time unless an extra package is installed).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path

import jsonschema
from django.conf import settings

SCHEMA_DIR = Path(settings.BASE_DIR) / "simulators" / "fasttrack" / "schemas"

_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.I)
_checker = jsonschema.FormatChecker()


@_checker.checks("date-time", raises=ValueError)
def _date_time(value) -> bool:
    if not isinstance(value, str):
        return True
    match = _RFC3339.match(value)
    if not match:
        raise ValueError("not RFC 3339")
    datetime(*(int(part) for part in match.groups()[:6]))
    return True


@_checker.checks("date", raises=ValueError)
def _date(value) -> bool:
    if isinstance(value, str) and not (re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) and date.fromisoformat(value)):
        raise ValueError("not YYYY-MM-DD")
    return True


@cache
def validator(name: str) -> jsonschema.Draft7Validator:
    """The validator of one schema by file name without `.schema.json` ("user_details", "payment", ...)."""
    [path] = SCHEMA_DIR.rglob(f"{name}.schema.json")
    return jsonschema.Draft7Validator(json.loads(path.read_text()), format_checker=_checker)


def errors(name: str, document) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
            for error in validator(name).iter_errors(document)]
