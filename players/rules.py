"""Field rules for player data, shared by the API, the site forms, the admin and the services.

Each check returns an error message or None; `collect_errors` turns a set of checks into the
`{field: [message]}` map that `PlayerInputInvalid` carries.
"""

from __future__ import annotations

from datetime import date

import pycountry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from players.models import Sex
from wallet import currencies

USERNAME_MIN, USERNAME_MAX = 3, 150
USERNAME_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def age_on(birth_date: date, today: date) -> int:
    had_birthday = (today.month, today.day) >= (birth_date.month, birth_date.day)
    return today.year - birth_date.year - (0 if had_birthday else 1)


def username_error(username: str) -> str | None:
    if not USERNAME_MIN <= len(username) <= USERNAME_MAX:
        return f"Use {USERNAME_MIN} to {USERNAME_MAX} characters."
    if not set(username) <= USERNAME_ALLOWED:
        return "Use letters, digits, '.', '-' and '_' only."
    return None


def email_error(email: str) -> str | None:
    try:
        validate_email(email)
    except ValidationError:
        return "Enter a valid e-mail address."
    return None


def birth_date_error(birth_date: date | None, today: date) -> str | None:
    if birth_date is None:
        return "This field is required."
    if birth_date > today:
        return "The birth date is in the future."
    if age_on(birth_date, today) < settings.PLAYER_MINIMUM_AGE:
        return f"You must be at least {settings.PLAYER_MINIMUM_AGE} years old."
    if age_on(birth_date, today) > 120:
        return "Enter a real birth date."
    return None


def country_error(code: str) -> str | None:
    if len(code) != 2 or not code.isupper() or pycountry.countries.get(alpha_2=code) is None:
        return "Unknown country code (ISO 3166-1 alpha-2, e.g. MT)."
    return None


def language_error(code: str) -> str | None:
    if len(code) != 2 or not code.islower() or pycountry.languages.get(alpha_2=code) is None:
        return "Unknown language code (ISO 639-1, e.g. en)."
    return None


def currency_error(code: str) -> str | None:
    if not currencies.is_supported(code):
        return "Unknown or unsupported currency code (ISO 4217, e.g. EUR)."
    return None


def sex_error(value: str) -> str | None:
    if value and value not in Sex.values:
        return f"Use one of {', '.join(Sex.values)}, or leave it empty."
    return None


def mobile_error(prefix: str, number: str) -> str | None:
    if number and not number.isdigit():
        return "Use digits only, without the country prefix."
    if prefix and not (prefix.startswith("+") and prefix[1:].isdigit() and len(prefix) <= 5):
        return "Use a prefix such as +356."
    return None


def collect_errors(checks: dict[str, str | None]) -> dict[str, list[str]]:
    return {field: [message] for field, message in checks.items() if message}
