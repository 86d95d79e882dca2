"""Thin Celery tasks: take ids, call a service, safe to run twice."""

from __future__ import annotations

import logging

from celery import shared_task

from wallet.exceptions import PspUnavailable
from wallet.services.payments import deposits_expire
from wallet.services.payouts import payouts_pending, withdrawal_payout_send
from wallet.services.reconcile import reconcile_run

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, autoretry_for=(PspUnavailable,), retry_backoff=5, retry_backoff_max=300,
             max_retries=8)
def wallet_payout_send(payment_id: int) -> str:
    """Send one approved withdrawal to the PSP (enqueued on commit of the approval)."""
    return withdrawal_payout_send(payment_id=payment_id)


@shared_task(ignore_result=True, max_retries=0)
def wallet_payments_sweep() -> dict:
    """Every minute: expire abandoned deposits; re-send payouts whose task was lost or gave up."""
    sent = failed = 0
    for payment_id in payouts_pending():
        try:
            withdrawal_payout_send(payment_id=payment_id)
            sent += 1
        except PspUnavailable:
            failed += 1  # next sweep
    result = {"deposits_expired": deposits_expire(), "payouts_sent": sent, "payouts_failed": failed}
    if failed:
        logger.warning("wallet sweep: %s payouts could not reach the PSP", failed)
    return result


@shared_task(ignore_result=True, max_retries=0)
def wallet_reconcile() -> str:
    """Nightly: reconcile every account; the run and any drift show in the admin."""
    run = reconcile_run(trigger="beat")
    return run.status
