"""Input and output shapes of the wallet API. Rules live in the services; these only parse and render.

Amounts in: a string of decimal digits ("10.50") or a JSON number; numbers are parsed as exact
Decimals (`igaming.parsers.DecimalJSONParser`), never floats. Amounts out: strings with the currency's places.
"""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from wallet.money import money_str


@extend_schema_field({"type": "string", "example": "10.50",
                      "description": "Decimal digits as a string, or a JSON number (parsed exactly)."})
class AmountField(serializers.Field):
    default_error_messages = {"invalid": "Send the amount as a string of digits or a JSON number, e.g. \"10.50\"."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | Decimal):
            self.fail("invalid")
        return data  # the service checks it against the currency

    def to_representation(self, value):
        return str(value)


class PaymentIn(serializers.Serializer):
    amount = AmountField()
    currency = serializers.CharField(max_length=3, help_text="The player's currency (ISO 4217)")


class MoneyOut(serializers.Field):
    """A Decimal rendered with the currency's places, the currency read from the same object."""

    def __init__(self, currency_attr: str = "currency", **kwargs):
        self.currency_attr = currency_attr
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return money_str(super().get_attribute(instance), getattr(instance, self.currency_attr))

    def to_representation(self, value):
        return value


MoneyOut = extend_schema_field({"type": "string", "example": "10.50"})(MoneyOut)


class PaymentOut(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True, help_text="Requested, Approved, Rejected, Cancelled or Rollback")
    amount = MoneyOut()
    currency = serializers.CharField(read_only=True)
    idempotency_key = serializers.CharField(source="external_id", read_only=True)
    payout_status = serializers.CharField(read_only=True, help_text="Withdrawals: PENDING, SENT, CONFIRMED, FAILED")
    reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class DepositOut(PaymentOut):
    redirect_url = serializers.CharField(read_only=True, help_text="The PSP's hosted payment page: send the player "
                                                                   "there while the deposit is Requested.")


class WalletBalanceOut(serializers.Serializer):
    currency = serializers.CharField(read_only=True)
    real_money = MoneyOut(help_text="Playable real money")
    bonus_money = MoneyOut()
    withdrawal_hold = MoneyOut(help_text="Reserved by withdrawals waiting for approval")


class EntryOut(serializers.Serializer):
    account = serializers.CharField(source="account.kind", read_only=True)
    amount = MoneyOut(help_text="Signed change of that account")
    balance_after = MoneyOut()


class TransactionOut(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    kind = serializers.CharField(read_only=True)
    amount = MoneyOut()
    currency = serializers.CharField(read_only=True)
    payment_id = serializers.CharField(read_only=True, allow_null=True)
    reverses_id = serializers.CharField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    entries = EntryOut(source="player_entries", many=True, read_only=True)


class WebhookOut(serializers.Serializer):
    status = serializers.CharField(help_text="applied, or duplicate for an event already applied")
    payment_id = serializers.CharField(allow_null=True)
    payment_status = serializers.CharField(allow_null=True)
