"""PSP webhooks, applied exactly once each (its event_id is unique in the same transaction)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from wallet.models import Payment, PaymentStatus, PspWebhook
from wallet.psp import PspEvent
from wallet.services import payments

INSERT_WEBHOOK = """
INSERT INTO wallet_pspwebhook (event_id, event_type, payload, received_at, result)
VALUES (%s, %s, %s::jsonb, %s, '') ON CONFLICT (event_id) DO NOTHING RETURNING id
"""


@dataclass(frozen=True)
class WebhookOutcome:
    duplicate: bool
    payment: Payment | None
    result: str


def _apply(event: PspEvent) -> Payment:
    if event.type == "payment.approved":
        return payments.deposit_approve(payment_id=event.payment_id, psp_reference=event.psp_reference,
                                        amount=event.amount, currency=event.currency)
    if event.type in ("payment.declined", "payment.cancelled"):
        status = PaymentStatus.REJECTED if event.type == "payment.declined" else PaymentStatus.CANCELLED
        return payments.deposit_fail(payment_id=event.payment_id, status=status,
                                     reason=event.reason or f"PSP: {event.type}", psp_reference=event.psp_reference)
    if event.type == "payment.chargeback":
        return payments.deposit_rollback(payment_id=event.payment_id, reason=event.reason or "Chargeback")
    if event.type == "payout.completed":
        return payments.withdrawal_payout_confirmed(payment_id=event.payment_id, psp_reference=event.psp_reference,
                                                    amount=event.amount, currency=event.currency)
    if event.type == "payout.failed":
        return payments.withdrawal_payout_failed(payment_id=event.payment_id, reason=event.reason or "Payout failed",
                                                 psp_reference=event.psp_reference)
    raise ValueError(f"unknown PSP event type {event.type}")


def psp_webhook_apply(*, event: PspEvent) -> WebhookOutcome:
    """Apply one authenticated PSP webhook: record it and change the payment, in one transaction.

    A webhook whose event_id was already applied changes nothing and returns the first result
    (duplicate=True). Locks the payment and its accounts through the payment services, which also
    emit the events. A refusal (PaymentNotFound, PspMismatch, PaymentStateConflict) rolls the whole
    thing back, the webhook row too, and reaches the PSP as a 4xx.
    """
    with transaction.atomic():
        # The same event may arrive twice at once: the second waits for the first to commit, then
        # inserts nothing and is answered with the first one's result.
        with connection.cursor() as cursor:
            cursor.execute(INSERT_WEBHOOK, [event.event_id, event.type, json.dumps(event.payload), timezone.now()])
            inserted = cursor.fetchone()
        if inserted is None:
            first = PspWebhook.objects.select_related("payment").get(event_id=event.event_id)
            return WebhookOutcome(duplicate=True, payment=first.payment, result=first.result)
        payment = _apply(event)
        result = f"{payment.status} {payment.payout_status}".strip()
        PspWebhook.objects.filter(pk=inserted[0]).update(payment=payment, result=result)
    return WebhookOutcome(duplicate=False, payment=payment, result=result)
