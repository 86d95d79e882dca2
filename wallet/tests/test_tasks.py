"""The periodic sweep: abandoned deposits expire, payouts the PSP never got are sent again."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from wallet.models import Payment, PaymentStatus, PayoutStatus
from wallet.services import payments
from wallet.tasks import wallet_payments_sweep
from wallet.tests.factories import deposit_approved, new_key, withdrawal_requested

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_sweep_expires_old_deposits_and_retries_unsent_payouts(player, compliance, settings):
    settings.PSP_BASE_URL, settings.PSP_TIMEOUT_SECONDS = f"http://127.0.0.1:{closed_port()}", 0.5
    stale = payments.deposit_request(player=player, amount="5.00", currency="EUR", external_id=new_key()).payment
    Payment.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(hours=2))
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")
    payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")
    Payment.objects.filter(pk=withdrawal.pk).update(decided_at=timezone.now() - timedelta(minutes=5))

    result = wallet_payments_sweep()

    assert result == {"deposits_expired": 1, "payouts_sent": 0, "payouts_failed": 1}
    stale.refresh_from_db()
    withdrawal.refresh_from_db()
    assert stale.status == PaymentStatus.CANCELLED
    assert withdrawal.payout_status == PayoutStatus.PENDING  # still owed: the next sweep tries again
