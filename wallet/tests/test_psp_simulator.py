"""The PSP simulator as a real process, talking to a live platform over HTTP: hosted page, server-to-
server payments, payouts and chargebacks, and its failure modes (decline, timeout, duplicate)."""

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.core.cache import cache

from wallet import psp
from wallet.exceptions import PspUnavailable
from wallet.models import Payment, PaymentStatus, PayoutStatus, PspWebhook
from wallet.selectors import wallet_balance
from wallet.services import payments
from wallet.services.payouts import withdrawal_payout_send
from wallet.tests.factories import deposit_approved, new_key, withdrawal_requested

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def start_simulator(platform_url: str, *extra: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.psp", "--port", "0", "--platform-url", platform_url,
         "--secret", settings.PSP_WEBHOOK_SECRET, "--log-level", "WARNING", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"simulator did not start: {line} {process.stderr.read()}")
    return process, line.removeprefix("listening on ")


@pytest.fixture
def simulator(live_server, settings):
    cache.clear()
    process, url = start_simulator(live_server.url)
    settings.PSP_BASE_URL = settings.PSP_PUBLIC_URL = url
    yield url
    process.terminate()
    process.wait(timeout=5)


def s2s(url: str, path: str, payload: dict, **kwargs) -> requests.Response:
    body = json.dumps(payload).encode()
    return requests.post(url + path, data=body, headers=psp.signed_headers(body), timeout=10, **kwargs)


def wait_for(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def deposit(player, amount="20.00"):
    return payments.deposit_request(player=player, amount=amount, currency="EUR", external_id=new_key()).payment


def test_a_player_pays_on_the_hosted_page_and_comes_back_credited(simulator, player):
    payment = deposit(player)
    link = psp.checkout_url(payment)

    page = requests.get(link, timeout=10)
    reference = page.text.split('action="/pay/')[1].split('"')[0]
    back = requests.post(f"{simulator}/pay/{reference}", data={"action": "pay"}, allow_redirects=False, timeout=10)

    assert page.status_code == 200 and "20.00 EUR" in page.text
    assert back.status_code == 303
    assert back.headers["Location"] == f"{settings.SITE_URL}/cashier/return?payment={payment.pk}"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.APPROVED and payment.psp_reference == reference
    assert wallet_balance(player).real_money == Decimal("20.00")


def test_a_player_who_declines_on_the_hosted_page_is_not_credited(simulator, player):
    payment = deposit(player)
    page = requests.get(psp.checkout_url(payment), timeout=10)
    reference = page.text.split('action="/pay/')[1].split('"')[0]

    requests.post(f"{simulator}/pay/{reference}", data={"action": "decline"}, allow_redirects=False, timeout=10)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED
    assert wallet_balance(player).real_money == 0


def test_a_tampered_payment_link_is_refused_by_the_psp(simulator, player):
    link = psp.checkout_url(deposit(player))

    response = requests.get(link.replace("amount=20.00", "amount=0.01"), timeout=10)

    assert response.status_code == 403
    assert requests.get(f"{simulator}/api/payments", timeout=10).json()["payments"] == []


@pytest.mark.parametrize(("outcome", "status"), [("approve", PaymentStatus.APPROVED),
                                                  ("decline", PaymentStatus.REJECTED),
                                                  ("cancel", PaymentStatus.CANCELLED),
                                                  ("timeout", PaymentStatus.REQUESTED)])
def test_server_to_server_payments_report_each_outcome(simulator, player, outcome, status):
    payment = deposit(player)

    answer = s2s(simulator, "/api/payments", {"merchant_reference": str(payment.pk), "amount": "20.00",
                                              "currency": "EUR", "outcome": outcome})

    assert answer.status_code == 201
    assert answer.json()["webhook_answers"] == ([] if outcome == "timeout" else [200])
    payment.refresh_from_db()
    assert payment.status == status


def test_a_webhook_sent_twice_is_applied_once(simulator, player):
    payment = deposit(player)

    answer = s2s(simulator, "/api/payments", {"merchant_reference": str(payment.pk), "amount": "20.00",
                                              "currency": "EUR", "duplicate": True})

    assert answer.json()["webhook_answers"] == [200, 200]
    [delivery] = [w for p in requests.get(f"{simulator}/api/payments", timeout=10).json()["payments"]
                  for w in p["webhooks"]]
    assert [json.loads(a["body"])["status"] for a in delivery["answers"]] == ["applied", "duplicate"]
    assert wallet_balance(player).real_money == Decimal("20.00")
    assert PspWebhook.objects.count() == 1


def test_the_psp_refuses_an_unsigned_server_to_server_call(simulator, player):
    payment = deposit(player)

    answer = requests.post(f"{simulator}/api/payments", json={"merchant_reference": str(payment.pk),
                                                              "amount": "20.00", "currency": "EUR"}, timeout=10)

    assert answer.status_code == 401
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUESTED


def test_an_approved_withdrawal_is_paid_out_and_confirmed_by_webhook(simulator, player, compliance):
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "30.00")
    payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")

    assert withdrawal_payout_send(payment_id=withdrawal.pk) == "sent"

    assert wait_for(lambda: Payment.objects.get(pk=withdrawal.pk).payout_status == PayoutStatus.CONFIRMED)
    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.APPROVED and withdrawal.psp_reference.startswith("po_")
    assert withdrawal_payout_send(payment_id=withdrawal.pk) == "nothing to send"
    assert wallet_balance(player).real_money == Decimal("20.00")


def test_a_payout_the_psp_declines_returns_the_money(simulator, player, compliance):
    requests.post(f"{simulator}/control", json={"mode": "decline"}, timeout=10)
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "30.00")
    payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")

    withdrawal_payout_send(payment_id=withdrawal.pk)

    assert wait_for(lambda: Payment.objects.get(pk=withdrawal.pk).status == PaymentStatus.ROLLBACK)
    assert wallet_balance(player).real_money == Decimal("50.00")


def test_a_chargeback_from_the_psp_rolls_the_deposit_back(simulator, player):
    payment = deposit(player)
    s2s(simulator, "/api/payments", {"merchant_reference": str(payment.pk), "amount": "20.00", "currency": "EUR"})

    answer = requests.post(f"{simulator}/api/chargebacks", json={"merchant_reference": str(payment.pk)}, timeout=10)

    assert answer.json()["webhook_answers"] == [200]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.ROLLBACK
    assert wallet_balance(player).real_money == 0


def test_a_psp_that_times_out_leaves_the_payout_pending_for_a_retry(live_server, settings, player, compliance):
    cache.clear()
    process, url = start_simulator(live_server.url, "--mode", "timeout", "--hang-seconds", "2")
    settings.PSP_BASE_URL, settings.PSP_TIMEOUT_SECONDS = url, 0.5
    try:
        deposit_approved(player, "50.00")
        withdrawal = withdrawal_requested(player, "30.00")
        payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")

        with pytest.raises(PspUnavailable):
            withdrawal_payout_send(payment_id=withdrawal.pk)

        withdrawal.refresh_from_db()
        assert (withdrawal.status, withdrawal.payout_status) == (PaymentStatus.APPROVED, PayoutStatus.PENDING)
        requests.post(f"{url}/control", json={"mode": "approve"}, timeout=10)
        assert withdrawal_payout_send(payment_id=withdrawal.pk) == "sent"
        assert wait_for(lambda: Payment.objects.get(pk=withdrawal.pk).payout_status == PayoutStatus.CONFIRMED)
    finally:
        process.terminate()
        process.wait(timeout=5)
