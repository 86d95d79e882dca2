"""Sending approved withdrawals to the PSP. Network I/O, so never inside a database transaction."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from wallet import psp
from wallet.models import Payment, PaymentKind, PaymentStatus, PayoutStatus


def withdrawal_payout_send(*, payment_id: int) -> str:
    """Ask the PSP to pay out one approved withdrawal; mark it SENT when the PSP accepts it.

    Safe to run twice: the PSP is idempotent by our payment id, and the status only moves
    PENDING -> SENT under the payment's row lock (a webhook may already have confirmed it).
    Raises PspUnavailable (the Celery task retries; the sweep picks up what is left).
    """
    payment = Payment.objects.filter(pk=payment_id, kind=PaymentKind.WITHDRAWAL).first()
    if payment is None or payment.status != PaymentStatus.APPROVED or payment.payout_status != PayoutStatus.PENDING:
        return "nothing to send"
    reference = psp.payout_create(payment_id=payment.pk, amount=payment.amount, currency=payment.currency)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.payout_status == PayoutStatus.PENDING:
            payment.payout_status, payment.psp_reference = PayoutStatus.SENT, reference
            payment.updated_at = timezone.now()
            payment.save(update_fields=["payout_status", "psp_reference", "updated_at"])
    return "sent"


def payouts_pending(*, older_than: timedelta = timedelta(minutes=1), batch: int = 200) -> list[int]:
    """Approved withdrawals still waiting to reach the PSP (their task was lost or gave up)."""
    cutoff = timezone.now() - older_than
    return list(Payment.objects.filter(kind=PaymentKind.WITHDRAWAL, status=PaymentStatus.APPROVED,
                                       payout_status=PayoutStatus.PENDING, decided_at__lt=cutoff)
                .order_by("pk").values_list("pk", flat=True)[:batch])
