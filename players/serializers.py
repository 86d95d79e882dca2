"""Input and output shapes of the player API. Rules live in the services; these only parse."""

from rest_framework import serializers

from players.models import CONSENT_FIELDS, LimitKind, LimitPeriod, Player


class RegisterIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    birth_date = serializers.DateField()
    country = serializers.CharField(max_length=2, min_length=2)
    currency = serializers.CharField(max_length=3, min_length=3)
    language = serializers.CharField(max_length=2, min_length=2, default="en")
    title = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    sex = serializers.CharField(max_length=10, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    mobile_prefix = serializers.CharField(max_length=6, required=False, allow_blank=True, default="")
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    affiliate_reference = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    registration_code = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    consents = serializers.DictField(child=serializers.BooleanField(), required=False, default=dict)


class LoginIn(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="Username or e-mail")
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class LoginOut(serializers.Serializer):
    player_id = serializers.CharField()
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`")
    expires_in_days = serializers.IntegerField()


class PlayerOut(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    brand = serializers.CharField(source="brand.code", read_only=True)

    class Meta:
        model = Player
        fields = [
            "id", "username", "email", "title", "first_name", "last_name", "sex", "birth_date",
            "address", "city", "postal_code", "mobile_prefix", "mobile", "country", "market",
            "language", "currency", "brand", "origin", "registered_at", "verified_at", "status",
            "kyc_status", "roles",
        ]
        read_only_fields = fields


class ProfileIn(serializers.Serializer):
    """What a player may change on their own profile (all optional; PATCH semantics)."""

    title = serializers.CharField(max_length=20, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    sex = serializers.CharField(max_length=10, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    mobile_prefix = serializers.CharField(max_length=6, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=20, required=False, allow_blank=True)
    language = serializers.CharField(max_length=2, required=False)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({field: ["This field cannot be changed here."] for field in unknown})
        return super().to_internal_value(data)


class ConsentItem(serializers.Serializer):
    type = serializers.ChoiceField(choices=list(CONSENT_FIELDS))
    opted_in = serializers.BooleanField()


class ConsentsIn(serializers.Serializer):
    consents = ConsentItem(many=True, allow_empty=False)


class ConsentsOut(serializers.Serializer):
    consents = ConsentItem(many=True)


class LimitIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LimitKind.choices)
    period = serializers.ChoiceField(choices=LimitPeriod.choices, required=False, allow_blank=True, default="")
    value = serializers.CharField(allow_null=True, help_text="Amount (money limits) or minutes; null removes")


class LimitOut(serializers.Serializer):
    kind = serializers.CharField()
    period = serializers.CharField()
    value = serializers.DecimalField(max_digits=20, decimal_places=8, coerce_to_string=True, allow_null=True,
                                     normalize_output=True)
    pending_value = serializers.DecimalField(max_digits=20, decimal_places=8, coerce_to_string=True,
                                             allow_null=True, normalize_output=True)
    pending_removal = serializers.BooleanField()
    pending_effective_at = serializers.DateTimeField(allow_null=True)


class SelfExclusionIn(serializers.Serializer):
    until = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                      help_text="Empty for an indefinite self-exclusion")


class TimeoutIn(serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=42 * 24)


class BlockOut(serializers.Serializer):
    kind = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
