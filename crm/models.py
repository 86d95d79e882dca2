"""The transactional outbox of CRM events.

A business change and its `OutboxEvent` row are written in one database transaction
(`crm.services.crm_event_record`), so an event exists if and only if its change committed.
Delivery happens after commit (see `crm.delivery`): each row carries a stable `event_id` the
receiver can use to drop duplicates, and a player's events are sent strictly in `id` order.
"""

import uuid

from django.db import models
from django.utils import timezone


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


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    DELIVERED = "DELIVERED", "Delivered"
    DEAD = "DEAD", "Dead-lettered"


class OutboxEvent(models.Model):
    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    player_id = models.BigIntegerField()
    payload = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["player_id", "id"], name="outbox_player_order"),
            models.Index(fields=["next_attempt_at", "id"], name="outbox_pending_due",
                         condition=models.Q(status="PENDING")),
            models.Index(fields=["status", "-id"], name="outbox_status"),
        ]
        ordering = ["-id"]

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
