"""The transactional outbox of CRM events.

A business change and its `OutboxEvent` row are written in one database transaction
(`crm.services.crm_event_record`), so an event exists if and only if its change committed.
Delivery happens after commit (see `crm.delivery`): each row carries a stable `event_id` the
receiver can use to drop duplicates, and a player's events are sent strictly in `id` order.
"""

import json
import re
from decimal import Decimal

from django.db import models
from django.utils import timezone

from crm.event_ids import event_id_new


class EventType(models.TextChoices):
    USER_CREATE = "USER_CREATE_V2", "Registration"
    LOGIN = "LOGIN_V2", "Login"
    USER_UPDATE = "USER_UPDATE_V2", "Profile update"
    USER_BLOCK = "USER_BLOCK_V2", "Blocks changed"
    USER_CONSENTS = "USER_CONSENTS_V2", "Consents changed"
    PAYMENT = "PAYMENT", "Payment"
    CASINO = "CASINO", "Casino"
    BONUS = "BONUS", "Bonus"
    USER_BALANCES_UPDATE = "USER_BALANCES_UPDATE", "Balances"
    CUSTOM = "CUSTOM", "Custom"


# A Decimal travels through json.dumps as a marker string that `encode` then unquotes. A NUL character
# cannot occur in a real payload string: PostgreSQL's jsonb refuses \u0000.
_DECIMAL_MARK = "\x00decimal:"
_DECIMAL_MARKED = re.compile(r'"\\u0000decimal:(-?[0-9]+(?:\.[0-9]+)?)"')


class ExactNumberEncoder(json.JSONEncoder):
    """JSON with Decimals as numbers written digit for digit ("10.50" -> 10.50).

    Fast Track wants amounts as JSON numbers; a float would round them, and Django's encoder
    writes Decimals as strings. PostgreSQL's jsonb keeps numbers exact, so the stored payload (and
    its text, which delivery sends byte for byte) carries the amount exactly as the wallet booked it.
    """

    def default(self, o):
        if isinstance(o, Decimal):
            if not o.is_finite():
                raise ValueError(f"{o} cannot be a JSON number")
            return _DECIMAL_MARK + format(o, "f")
        return super().default(o)

    def iterencode(self, o, _one_shot=False):
        # encode() and json.dump() both come through here.
        yield _DECIMAL_MARKED.sub(r"\1", "".join(super().iterencode(o, _one_shot)))


class PayloadField(models.JSONField):
    """A JSONField writing Decimals as exact numbers (ExactNumberEncoder).

    The encoder is not part of the schema, so `deconstruct` reports a plain JSONField: migrations
    stay as they are.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("encoder", ExactNumberEncoder)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        kwargs.pop("encoder", None)
        return name, "django.db.models.JSONField", args, kwargs


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    DELIVERED = "DELIVERED", "Delivered"
    DEAD = "DEAD", "Dead-lettered"


class OutboxEvent(models.Model):
    # Version 7: ordered by time, so new rows append to the unique index (crm/event_ids.py).
    event_id = models.UUIDField(default=event_id_new, unique=True, editable=False)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    player_id = models.BigIntegerField()
    payload = PayloadField()  # amounts as exact JSON numbers, see ExactNumberEncoder
    created_at = models.DateTimeField(default=timezone.now)

    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # Retried until this moment, then dead-lettered; empty means created_at + CRM_DELIVERY_GIVE_UP_HOURS.
    # "Retry now" sets it, giving a revived event a fresh window.
    give_up_at = models.DateTimeField(null=True, blank=True)
    # A replay is a new row (new event_id, same payload) pointing at the delivered row it repeats.
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  db_index=False)

    class Meta:
        indexes = [
            models.Index(fields=["player_id", "id"], name="outbox_player_order"),
            models.Index(fields=["next_attempt_at", "id"], name="outbox_pending_due",
                         condition=models.Q(status="PENDING")),
            models.Index(fields=["status", "-id"], name="outbox_status"),
            # The head of each player's queue: "no earlier PENDING event of this player" is one probe.
            models.Index(fields=["player_id", "id"], name="outbox_pending_player",
                         condition=models.Q(status="PENDING")),
        ]
        ordering = ["-id"]
        permissions = [
            ("retry_outboxevent", "Can retry a pending or dead-lettered CRM event now"),
            ("replay_outboxevent", "Can replay a delivered CRM event"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk} for player {self.player_id}"


class OperatorApiKey(models.Model):
    """A credential for a CRM calling the Operator API (Fast Track, Smartico, ...).

    One credential serves all three schemes Fast Track may be configured with:
    `X-Api-Key: <client_id>.<secret>`, HTTP Basic with client_id / secret, and OAuth2 client
    credentials (client_id / secret exchanged at our token endpoint for a short-lived bearer token).
    Only a hash of the secret is stored; the secret is shown once, when the key is created.
    """

    name = models.CharField(max_length=100)
    client_id = models.CharField(max_length=40, unique=True)
    secret_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Operator API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.client_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
