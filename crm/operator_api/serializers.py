"""Input of the Operator API, and its output shapes for the OpenAPI schema.

Output bodies are built by `contract.py` (the published schemas are the source of truth); the
`*Out` serializers below only describe them to drf-spectacular.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm.operator_api.contract import CONSENT_TYPES


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    """A JSON true or false; DRF's BooleanField would also take "yes", 1 or "on"."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return bool(value)


class _Closed(serializers.Serializer):
    """Refuses keys it does not know, like the contract's `additionalProperties: false`."""

    def validate(self, attrs):
        if isinstance(self.initial_data, dict):
            unknown = sorted(set(self.initial_data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return attrs


class OperatorConsentIn(serializers.Serializer):
    type = serializers.ChoiceField(choices=CONSENT_TYPES)
    opted_in = StrictBooleanField()


class OperatorConsentsIn(_Closed):
    consents = OperatorConsentIn(many=True, allow_empty=False, max_length=len(CONSENT_TYPES))

    def validate_consents(self, items):
        types = [item["type"] for item in items]
        if len(set(types)) != len(types):
            raise serializers.ValidationError("Each consent type may appear once.")
        return items


class OperatorReconciliationIn(_Closed):
    field = serializers.CharField(max_length=64)


class OperatorAuthenticateIn(_Closed):
    sid = serializers.CharField(max_length=256)


class OperatorTokenIn(serializers.Serializer):
    """RFC 6749 4.4: client credentials go in a Basic header or in the form itself."""

    grant_type = serializers.CharField(max_length=40)
    client_id = serializers.CharField(max_length=40, required=False)
    client_secret = serializers.CharField(max_length=200, required=False)
    scope = serializers.CharField(max_length=200, required=False, allow_blank=True)


class OperatorTokenOut(serializers.Serializer):
    access_token = serializers.CharField()
    expires_in = serializers.IntegerField()
    token_type = serializers.CharField(default="Bearer")


class OperatorErrorOut(serializers.Serializer):
    error = serializers.CharField()
    code = serializers.IntegerField(help_text="The HTTP status.")


class OperatorUserDetailsOut(serializers.Serializer):
    user_id = serializers.CharField()
    username = serializers.CharField()
    email = serializers.CharField(help_text='"" when unknown')
    title = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    sex = serializers.ChoiceField(choices=["male", "female", "other", ""])
    birth_date = serializers.CharField(help_text='YYYY-MM-DD or ""')
    address = serializers.CharField()
    city = serializers.CharField()
    postal_code = serializers.CharField()
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    mobile_prefix = serializers.CharField()
    mobile = serializers.CharField()
    language = serializers.CharField()
    currency = serializers.CharField()
    market = serializers.CharField()
    origin = serializers.CharField()
    affiliate_reference = serializers.CharField()
    registration_code = serializers.CharField()
    registration_date = serializers.CharField(help_text="RFC 3339")
    verified_at = serializers.CharField(help_text='RFC 3339 or ""')
    is_blocked = serializers.BooleanField()
    is_excluded = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())


class OperatorBlockOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Blocked", "Excluded"])
    active = serializers.BooleanField()
    note = serializers.CharField()


class OperatorUserBlocksOut(serializers.Serializer):
    blocks = OperatorBlockOut(many=True)


class OperatorConsentOut(serializers.Serializer):
    type = serializers.ChoiceField(choices=CONSENT_TYPES)
    opted_in = serializers.BooleanField()


class OperatorUserConsentsOut(serializers.Serializer):
    consents = OperatorConsentOut(many=True)


class OperatorReconciliationOut(serializers.Serializer):
    users = serializers.ListField(child=serializers.CharField())
    timestamp = serializers.CharField(help_text="RFC 3339")


class OperatorAuthenticateOut(serializers.Serializer):
    user_id = serializers.CharField()
