"""The seamless-wallet contract's request and answer bodies (input checks and the OpenAPI schema).

Amounts travel as decimal strings ("1.50"); JSON numbers are accepted too and read exactly (never
through a float). Answers always carry the balance: total, real money and bonus money.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

ID_HELP = "1-59 characters: letters, digits, '.', '_', ':' or '-'."


@extend_schema_field({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$", "example": "1.50"})
class AmountField(serializers.Field):
    """A decimal string or a JSON number; the service checks it against the currency."""

    default_error_messages = {"invalid": 'Send the amount as a decimal string, e.g. "1.50".'}

    def to_internal_value(self, data):
        if isinstance(data, bool | float) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return str(value)


class TokenIn(serializers.Serializer):
    token = serializers.CharField(max_length=200, help_text="The session token from the launch URL.")


class BetIn(TokenIn):
    transaction_id = serializers.CharField(max_length=59, help_text=f"Your id of this bet. {ID_HELP}")
    round_id = serializers.CharField(max_length=59, help_text=f"Your id of the round. {ID_HELP}")
    amount = AmountField(help_text="Above zero, in the session's currency.")
    currency = serializers.CharField(max_length=3)


class WinIn(TokenIn):
    transaction_id = serializers.CharField(max_length=59, help_text=f"Your id of this win. {ID_HELP}")
    round_id = serializers.CharField(max_length=59, help_text="The round of the bet this win pays.")
    amount = AmountField(help_text="Zero or more; a win of 0 closes a losing round.")
    currency = serializers.CharField(max_length=3)
    round_closed = serializers.BooleanField(default=True, help_text="This win ends the round (default true).")


class RollbackIn(TokenIn):
    transaction_id = serializers.CharField(max_length=59, help_text=f"Your id of this rollback. {ID_HELP}")
    bet_transaction_id = serializers.CharField(max_length=59, help_text="The bet to refund.")


class BetWinIn(TokenIn):
    bet_transaction_id = serializers.CharField(max_length=59)
    win_transaction_id = serializers.CharField(max_length=59)
    round_id = serializers.CharField(max_length=59)
    bet_amount = AmountField()
    win_amount = AmountField(help_text="Zero or more.")
    currency = serializers.CharField(max_length=3)


class BalanceOut(serializers.Serializer):
    status = serializers.CharField(help_text='"OK"')
    player_id = serializers.CharField()
    currency = serializers.CharField()
    balance = AmountField(help_text="Real plus bonus money.")
    real_balance = AmountField()
    bonus_balance = AmountField()


class AuthenticateOut(BalanceOut):
    session_id = serializers.CharField()
    game_id = serializers.CharField()
    country = serializers.CharField()
    language = serializers.CharField()


class RealityCheckOut(serializers.Serializer):
    due = serializers.BooleanField()
    minutes_played = serializers.IntegerField()
    interval_minutes = serializers.IntegerField()
    total_bet = AmountField()
    total_win = AmountField()


class BetOut(BalanceOut):
    transaction_id = serializers.CharField()
    round_id = serializers.CharField()
    amount = AmountField()
    real_amount = AmountField(help_text="Part of the bet paid with real money.")
    bonus_amount = AmountField(help_text="Part of the bet paid with bonus money.")
    reality_check = RealityCheckOut(required=False, help_text="Present when the player's reality check is due.")


class WinOut(BalanceOut):
    transaction_id = serializers.CharField()
    round_id = serializers.CharField()
    amount = AmountField()
    round_closed = serializers.BooleanField()


class RollbackOut(BalanceOut):
    transaction_id = serializers.CharField()
    bet_transaction_id = serializers.CharField()
    round_id = serializers.CharField()
    amount = AmountField()
    real_amount = AmountField()
    bonus_amount = AmountField()


class BetWinOut(BalanceOut):
    bet_transaction_id = serializers.CharField()
    win_transaction_id = serializers.CharField()
    round_id = serializers.CharField()
    bet_amount = AmountField()
    win_amount = AmountField()
    real_amount = AmountField()
    bonus_amount = AmountField()
    round_closed = serializers.BooleanField()
    reality_check = RealityCheckOut(required=False)


class ErrorOut(serializers.Serializer):
    error = serializers.CharField(help_text="A message for people.")
    code = serializers.CharField(help_text="The stable code to program against.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
    currency = serializers.CharField(required=False, help_text="With the balances, when the player is known.")
    balance = AmountField(required=False)
    real_balance = AmountField(required=False)
    bonus_balance = AmountField(required=False)


# --- the common input without a serializer instance ------------------------------------------------------
# A DRF serializer deep-copies its fields on every instance: measured on the bench machine, checking a
# provider's bet that way was about a sixth of the web worker's time per call. A body whose every value
# the serializer would take unchanged is read here directly; anything else (a missing or null value, a
# number for an id, padding, a string for a boolean, ...) goes through the serializer, which says what
# is wrong. games/tests/test_seamless_input.py pins that both agree.

def _plain_char(field: serializers.Field) -> bool:
    return (type(field) is serializers.CharField and field.max_length is not None and not field.allow_blank
            and field.trim_whitespace and field.min_length is None and not field.allow_null)


@cache
def _plain_fields(serializer_class: type[serializers.Serializer]) -> tuple | None:
    """(name, kind, max length, default) per field, or None when a field or hook needs the serializer."""
    if serializer_class.validate is not serializers.Serializer.validate:
        return None
    plan = []
    for name, field in serializer_class._declared_fields.items():
        if field.source not in (None, name) or hasattr(serializer_class, f"validate_{name}"):
            return None
        if _plain_char(field):
            plan.append((name, "char", field.max_length, None))
        elif type(field) is AmountField and field.required:
            plan.append((name, "amount", None, None))
        elif type(field) is serializers.BooleanField and not field.allow_null:
            plan.append((name, "bool", None, None if field.required else field.default))
        else:
            return None
    return tuple(plan)


def plain_input(serializer_class: type[serializers.Serializer], data: dict) -> dict | None:
    """The serializer's validated_data for a body it would take unchanged; None: run the serializer."""
    plan = _plain_fields(serializer_class)
    if plan is None:
        return None
    validated = {}
    for name, kind, max_length, default in plan:
        value = data.get(name, default)
        if kind == "char":
            # Printable ASCII without padding: no null or surrogate to refuse, nothing to trim.
            if not (type(value) is str and 0 < len(value) <= max_length and value.isascii() and value.isprintable()
                    and value[0] != " " and value[-1] != " "):
                return None
        elif kind == "amount":
            if type(value) not in (str, int, Decimal):
                return None
        elif type(value) is not bool:
            return None
        validated[name] = value
    return validated
