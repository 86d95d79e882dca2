"""The seamless wallet reads a plain body without a serializer instance (serializers.plain_input): it
must take exactly what the contract's serializers take, with the same values, and leave the rest to them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from games.seamless import serializers
from games.seamless.handler import OPERATIONS

PLAIN_BODIES = {
    serializers.TokenIn: {"token": "tok-123"},
    serializers.BetIn: {"token": "tok-123", "transaction_id": "bet-1", "round_id": "r-1", "amount": "1.50",
                        "currency": "EUR"},
    serializers.WinIn: {"token": "tok-123", "transaction_id": "win-1", "round_id": "r-1", "amount": "0",
                        "currency": "EUR", "round_closed": False},
    serializers.RollbackIn: {"token": "tok-123", "transaction_id": "rb-1", "bet_transaction_id": "bet-1"},
    serializers.BetWinIn: {"token": "tok-123", "bet_transaction_id": "b-1", "win_transaction_id": "w-1",
                           "round_id": "r-1", "bet_amount": "2", "win_amount": "0.00", "currency": "EUR"},
}

# Values each kind of field may be sent with, taken or refused by the serializer.
CHAR_VALUES = ["x", "a" * 59, "a" * 60, "", " ", " padded", "padded ", "tab\tin", "\tlead", "nul\x00", "caf\u00e9",
               "\ud800", 7, 7.5, True, None, ["a"], {"a": 1}]
AMOUNT_VALUES = ["1.50", "0", "", "abc", 1, 0, Decimal("1.50"), 1.5, True, False, None, ["1"]]
BOOL_VALUES = [True, False, "true", "false", 1, 0, "yes", None, "maybe"]
MISSING = object()


def drf(serializer_class, data: dict) -> dict | None:
    serializer = serializer_class(data=data)
    return dict(serializer.validated_data) if serializer.is_valid() else None


def variants(serializer_class, body: dict):
    """The body with one field changed to each value its kind may be sent with, or left out."""
    for name, field in serializer_class._declared_fields.items():
        if isinstance(field, serializers.AmountField):
            values = AMOUNT_VALUES
        elif isinstance(field, serializers.serializers.BooleanField):
            values = BOOL_VALUES
        else:
            values = CHAR_VALUES
        for value in [*values, MISSING]:
            changed = {key: val for key, val in body.items() if key != name}
            if value is not MISSING:
                changed[name] = value
            yield changed


def test_every_operation_of_the_contract_has_a_plain_body_checked_here():
    assert {serializer_class for serializer_class, _ in OPERATIONS.values()} == set(PLAIN_BODIES)


@pytest.mark.parametrize("serializer_class", list(PLAIN_BODIES), ids=lambda cls: cls.__name__)
def test_a_plain_body_is_read_as_the_serializer_reads_it(serializer_class):
    body = PLAIN_BODIES[serializer_class]

    assert serializers.plain_input(serializer_class, body) == drf(serializer_class, body)
    assert serializers.plain_input(serializer_class, body) is not None


def test_a_left_out_round_closed_takes_the_contracts_default():
    body = {key: value for key, value in PLAIN_BODIES[serializers.WinIn].items() if key != "round_closed"}

    assert serializers.plain_input(serializers.WinIn, body)["round_closed"] is True
    assert drf(serializers.WinIn, body)["round_closed"] is True


def test_keys_outside_the_contract_are_ignored_as_the_serializer_ignores_them():
    body = {**PLAIN_BODIES[serializers.BetIn], "extra": {"nested": 1}}

    assert serializers.plain_input(serializers.BetIn, body) == drf(serializers.BetIn, body)


@pytest.mark.parametrize("serializer_class", list(PLAIN_BODIES), ids=lambda cls: cls.__name__)
def test_any_other_body_is_read_the_same_or_left_to_the_serializer(serializer_class):
    taken_plain = left = 0
    for body in variants(serializer_class, PLAIN_BODIES[serializer_class]):
        plain = serializers.plain_input(serializer_class, body)
        if plain is None:
            left += 1
        else:
            taken_plain += 1
            assert plain == drf(serializer_class, body), body
    assert taken_plain and left  # both ways were exercised


def test_a_serializer_with_its_own_validation_is_always_left_to_itself():
    class Checked(serializers.TokenIn):
        def validate_token(self, value):
            return value.upper()

    assert serializers.plain_input(Checked, {"token": "abc"}) is None
    assert drf(Checked, {"token": "abc"}) == {"token": "ABC"}


def test_a_field_kind_it_does_not_know_is_left_to_the_serializer():
    class Counted(serializers.TokenIn):
        count = serializers.serializers.IntegerField()

    assert serializers.plain_input(Counted, {"token": "abc", "count": 3}) is None
