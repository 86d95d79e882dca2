"""Real threads against the real database: many money calls on one player at the same moment."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from wallet.exceptions import InsufficientFunds
from wallet.models import Account, AccountKind, Entry, LedgerTransaction, Payment, ReconciliationStatus
from wallet.selectors import wallet_balance
from wallet.services import payments
from wallet.services.reconcile import reconcile_run
from wallet.tests.factories import deposit_approved

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 50


def run_in_threads(work, count):
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def target(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def test_fifty_concurrent_deposits_and_withdrawals_lose_nothing_and_never_overdraw(player):
    deposit_approved(player, "500.00", external_id="opening")

    def work(index):
        """Even threads withdraw 30.00, odd ones deposit 10.00; then each replays its own call."""
        key = f"call-{index}"
        if index % 2 == 0:
            def call():
                try:
                    return payments.withdrawal_request(player=player, amount="30.00", currency="EUR", external_id=key)
                except InsufficientFunds:
                    return "refused"
        else:
            def call():
                result = payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id=key)
                payments.deposit_approve(payment_id=result.payment.pk, psp_reference=key, amount="10.00",
                                         currency="EUR")
                return result
        first, replay = call(), call()
        return index, first, replay

    results, errors = run_in_threads(work, THREADS)

    assert errors == []
    withdrawn = 0
    for index, first, replay in results:
        if first == "refused":
            # A refusal books nothing, so the key stays free: the same call may pass once deposits land.
            withdrawn += replay != "refused"
            continue
        assert first.created and not replay.created
        assert (replay.payment.pk, replay.payment.amount, replay.payment.kind) == \
            (first.payment.pk, first.payment.amount, first.payment.kind)
        withdrawn += index % 2 == 0
    deposits = THREADS // 2
    balance = wallet_balance(player)
    assert balance.real_money == Decimal("500.00") + 10 * deposits - 30 * withdrawn
    assert balance.withdrawal_hold == 30 * withdrawn
    assert balance.real_money >= 0
    assert Payment.objects.filter(kind="WITHDRAWAL").count() == withdrawn
    assert Payment.objects.filter(kind="DEPOSIT", status="Approved").count() == deposits + 1
    assert LedgerTransaction.objects.count() == deposits + 1 + withdrawn
    assert Entry.objects.count() == 2 * LedgerTransaction.objects.count()
    assert reconcile_run().status == ReconciliationStatus.OK


def test_withdrawals_racing_for_the_last_money_never_take_more_than_there_is(player):
    deposit_approved(player, "100.00", external_id="opening")

    def work(index):
        try:
            payments.withdrawal_request(player=player, amount="7.00", currency="EUR", external_id=f"w-{index}")
            return "held"
        except InsufficientFunds:
            return "refused"

    results, errors = run_in_threads(work, THREADS)

    assert errors == []
    assert results.count("held") == 14 and results.count("refused") == THREADS - 14  # 14 x 7.00 = 98.00
    real = Account.objects.get(player=player, kind=AccountKind.REAL)
    assert real.balance == Decimal("2.00")
    assert reconcile_run().status == ReconciliationStatus.OK


def test_the_same_withdrawal_sent_fifty_times_at_once_is_booked_once(player):
    deposit_approved(player, "100.00", external_id="opening")

    def work(index):
        result = payments.withdrawal_request(player=player, amount="60.00", currency="EUR", external_id="same-key")
        return result.payment.pk, result.created

    results, errors = run_in_threads(work, THREADS)

    assert errors == []
    assert len({payment_id for payment_id, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert wallet_balance(player).real_money == Decimal("40.00")
