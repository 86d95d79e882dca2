"""The wallet back-office: the withdrawal queue, adjustments, read-only ledger screens, reconciliation."""

from decimal import Decimal

import pytest
from django.test import Client

from audit.models import AuditEntry
from wallet.models import Account, AccountKind, LedgerTransaction, Payment, PaymentStatus, ReconciliationRun
from wallet.selectors import wallet_balance
from wallet.tests.factories import deposit_approved, withdrawal_requested

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def action(client, url, name, pks, follow=False, **data):
    return client.post(url, {"action": name, "_selected_action": [str(pk) for pk in pks], **data}, follow=follow)


def test_the_payments_screen_shows_the_withdrawal_queue(compliance, player):
    deposit_approved(player, "100.00")
    withdrawal_requested(player, "40.00")

    page = logged_in(compliance).get("/admin/wallet/payment/")
    queue = logged_in(compliance).get("/admin/wallet/payment/?queue=withdrawals")

    assert page.status_code == 200
    assert "Withdrawal queue: 1 waiting" in page.content.decode()
    assert queue.status_code == 200 and "40.00 EUR" in queue.content.decode()


def test_compliance_approves_a_withdrawal_with_a_reason(compliance, player):
    deposit_approved(player, "100.00")
    withdrawal = withdrawal_requested(player, "40.00")
    client = logged_in(compliance)

    form = action(client, "/admin/wallet/payment/", "approve_withdrawals", [withdrawal.pk])
    done = action(client, "/admin/wallet/payment/", "approve_withdrawals", [withdrawal.pk], apply="1",
                  reason="KYC verified, source of funds ok")

    assert form.status_code == 200 and "reason" in form.content.decode()
    assert done.status_code == 302
    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.decided_by) == (PaymentStatus.APPROVED, compliance)
    assert AuditEntry.objects.get(action="wallet.withdrawal_approve").reason == "KYC verified, source of funds ok"


def test_an_approval_without_a_reason_changes_nothing(compliance, player):
    deposit_approved(player, "100.00")
    withdrawal = withdrawal_requested(player, "40.00")

    response = action(logged_in(compliance), "/admin/wallet/payment/", "approve_withdrawals", [withdrawal.pk],
                      apply="1", reason="")

    assert response.status_code == 200 and "This field is required" in response.content.decode()
    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.REQUESTED


def test_compliance_rejects_a_withdrawal_and_the_player_gets_the_money_back(compliance, player):
    deposit_approved(player, "100.00")
    withdrawal = withdrawal_requested(player, "40.00")

    action(logged_in(compliance), "/admin/wallet/payment/", "reject_withdrawals", [withdrawal.pk], apply="1",
           reason="Bonus abuse")

    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.REJECTED
    assert wallet_balance(player).real_money == Decimal("100.00")


def test_a_refused_decision_is_shown_as_a_message(compliance, player):
    deposit = deposit_approved(player, "100.00")

    response = action(logged_in(compliance), "/admin/wallet/payment/", "approve_withdrawals", [deposit.pk],
                      apply="1", reason="oops", follow=True)

    assert "Payment not found" in response.content.decode()
    deposit.refresh_from_db()
    assert deposit.status == PaymentStatus.APPROVED


def test_support_sees_payments_and_transactions_but_cannot_decide_or_adjust(support, player):
    deposit_approved(player, "100.00")
    withdrawal = withdrawal_requested(player, "40.00")
    client = logged_in(support)

    payments_page = client.get("/admin/wallet/payment/")
    transactions_page = client.get("/admin/wallet/ledgertransaction/")
    accounts_page = client.get("/admin/wallet/account/")
    forced = action(client, "/admin/wallet/payment/", "approve_withdrawals", [withdrawal.pk], apply="1", reason="x")

    assert payments_page.status_code == 200 and "approve_withdrawals" not in payments_page.content.decode()
    assert transactions_page.status_code == 200
    assert accounts_page.status_code == 403
    assert forced.status_code in (200, 302)
    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.REQUESTED


def test_compliance_adjusts_a_balance_once_even_if_the_form_is_sent_twice(compliance, player):
    deposit_approved(player, "10.00")
    real = Account.objects.get(player=player, kind=AccountKind.REAL)
    client = logged_in(compliance)
    form = action(client, "/admin/wallet/account/", "adjust_balance", [real.pk])
    key = form.content.decode().split('name="idempotency_key" value="')[1].split('"')[0]

    for _ in range(2):
        action(client, "/admin/wallet/account/", "adjust_balance", [real.pk], apply="1", direction="credit",
               amount="15.50", reason="Goodwill after outage", idempotency_key=key)

    assert wallet_balance(player).real_money == Decimal("25.50")
    adjustment = LedgerTransaction.objects.get(kind="ADJUSTMENT")
    assert (adjustment.actor, adjustment.reason) == (compliance, "Goodwill after outage")
    audit = AuditEntry.objects.get(action="wallet.balance_adjust")
    assert (audit.before["balance"], audit.after["balance"]) == ("10.00", "25.50")


def test_a_debit_adjustment_cannot_take_more_than_the_balance(compliance, player):
    deposit_approved(player, "10.00")
    real = Account.objects.get(player=player, kind=AccountKind.REAL)

    response = action(logged_in(compliance), "/admin/wallet/account/", "adjust_balance", [real.pk], apply="1",
                      direction="debit", amount="10.01", reason="Correction", idempotency_key="k1", follow=True)

    assert "balance is too low" in response.content.decode()
    assert wallet_balance(player).real_money == Decimal("10.00")


DATE_RANGE = "?created_at__gte=2020-01-01+00:00:00%2B00:00&created_at__lt=2100-01-01+00:00:00%2B00:00"


@pytest.mark.parametrize("query", ["", "?kind__exact=DEPOSIT", "?payment_status=Approved", DATE_RANGE,
                                   "?q={player}", "?q=deposit:{payment}"])
def test_the_transaction_search_renders_for_each_filter(compliance, player, query):
    payment = deposit_approved(player, "12.00")

    response = logged_in(compliance).get("/admin/wallet/ledgertransaction/" +
                                         query.format(player=player.pk, payment=payment.pk))

    assert response.status_code == 200
    assert "12.00 EUR" in response.content.decode()


def test_the_transaction_search_filters_out_what_does_not_match(compliance, player):
    deposit_approved(player, "12.00")

    response = logged_in(compliance).get("/admin/wallet/ledgertransaction/?q=no-such-id")

    assert response.status_code == 200 and "12.00 EUR" not in response.content.decode()


def test_ledger_screens_are_read_only(compliance, player):
    payment = deposit_approved(player, "12.00")
    ledger_tx = payment.transactions.get()
    client = logged_in(compliance)

    detail = client.get(f"/admin/wallet/ledgertransaction/{ledger_tx.pk}/change/")
    statement = client.get(f"/admin/wallet/entry/?q={ledger_tx.entries.first().account_id}")
    edit = client.post(f"/admin/wallet/ledgertransaction/{ledger_tx.pk}/change/", {"amount": "999"})
    delete = client.post(f"/admin/wallet/ledgertransaction/{ledger_tx.pk}/delete/", {"post": "yes"})

    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert statement.status_code == 200
    assert edit.status_code == 403 and delete.status_code == 403
    assert LedgerTransaction.objects.get(pk=ledger_tx.pk).amount == Decimal("12.00")


def test_reconciliation_runs_from_the_admin_and_drift_is_flagged_on_ledger_screens(compliance, player):
    deposit_approved(player, "12.00")
    client = logged_in(compliance)

    client.post("/admin/wallet/reconciliationrun/run/")
    assert ReconciliationRun.objects.get().status == "OK"

    Account.objects.filter(player=player, kind=AccountKind.REAL).update(balance=Decimal("13.00"))
    client.post("/admin/wallet/reconciliationrun/run/")
    accounts_page = client.get("/admin/wallet/account/").content.decode()
    runs_page = client.get("/admin/wallet/reconciliationrun/").content.decode()

    assert ReconciliationRun.objects.order_by("-id").first().status == "DRIFT"
    assert "did not pass: Drift found" in accounts_page
    assert "Drift found" in runs_page


def test_payments_and_webhooks_screens_render(compliance, player):
    payment = deposit_approved(player, "12.00")
    client = logged_in(compliance)

    assert client.get(f"/admin/wallet/payment/{payment.pk}/change/").status_code == 200
    assert client.get(f"/admin/wallet/payment/?q={payment.pk}").status_code == 200
    assert client.get("/admin/wallet/pspwebhook/").status_code == 200
    assert Payment.objects.count() == 1


def test_the_accounts_screen_sums_the_house_shards(compliance, player):
    deposit_approved(player, "12.00")

    page = logged_in(compliance).get("/admin/wallet/account/").content.decode()

    assert "House balances (all shards)" in page
    assert "<td>PSP_CLEARING</td><td>EUR</td><td>-12.00</td>" in page
