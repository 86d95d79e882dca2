"""Reconciliation: the command, the nightly task, and what counts as drift."""

from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from wallet.models import Account, AccountKind, ReconciliationRun, ReconciliationStatus
from wallet.services.payments import deposit_rollback
from wallet.tasks import wallet_reconcile
from wallet.tests.factories import deposit_approved, withdrawal_requested

pytestmark = pytest.mark.django_db


def run_command() -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("wallet_reconcile", stdout=out)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return out.getvalue(), code


def test_balanced_books_reconcile_ok(player):
    payment = deposit_approved(player, "50.00")
    withdrawal_requested(player, "20.00")
    deposit_rollback(payment_id=payment.pk, reason="chargeback")

    output, code = run_command()

    run = ReconciliationRun.objects.get()
    assert (code, run.status, run.drift_count) == (0, ReconciliationStatus.OK, 0)
    assert run.accounts_checked == Account.objects.count() == 5  # real, bonus, hold, clearing, loss
    assert run.entries_checked == 7
    assert f"reconciliation #{run.pk}: OK" in output


def test_a_cached_balance_that_differs_from_the_ledger_is_reported_as_drift(player):
    deposit_approved(player, "50.00")
    real = Account.objects.get(player=player, kind=AccountKind.REAL)
    Account.objects.filter(pk=real.pk).update(balance=Decimal("55.00"))  # a bug or a hand-edit

    output, code = run_command()

    run = ReconciliationRun.objects.get()
    assert (code, run.status, run.drift_count) == (1, ReconciliationStatus.DRIFT, 1)
    assert run.details["accounts"] == [{"account": real.pk, "player": player.pk, "kind": "REAL", "currency": "EUR",
                                        "cached": "55.00000000", "ledger": "50.00000000",
                                        "last_running": "50.00000000"}]
    assert f"account #{real.pk}" in output and "cached 55.00000000, ledger 50.00000000" in output


def test_the_nightly_task_records_a_run_and_is_scheduled(player):
    deposit_approved(player, "5.00")

    assert wallet_reconcile() == ReconciliationStatus.OK

    assert ReconciliationRun.objects.get().trigger == "beat"
    schedule = settings.CELERY_BEAT_SCHEDULE["wallet-reconcile-nightly"]
    assert schedule["task"] == "wallet.tasks.wallet_reconcile"
