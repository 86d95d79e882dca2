"""The cashier pages: balance, deposit through the PSP page, withdrawal, cancel, history."""

from decimal import Decimal

import pytest
from django.test import Client

from players.middleware import SESSION_PLAYER_KEY
from wallet.models import Payment, PaymentStatus
from wallet.selectors import wallet_balance
from wallet.tests.factories import deposit_approved

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(player):
    client = Client()
    session = client.session
    session[SESSION_PLAYER_KEY] = player.pk
    session.save()
    return client


def test_the_cashier_needs_a_logged_in_player(db):
    response = Client().get("/cashier")

    assert response.status_code == 302 and response["Location"] == "/login?next=/cashier"


def test_the_cashier_shows_balances_and_history(site, player):
    deposit_approved(player, "42.50")

    page = site.get("/cashier").content.decode()

    assert 'id="real-money">42.50 EUR' in page
    assert "Deposit" in page and "42.50" in page and "Approved" in page


def test_a_deposit_sends_the_player_to_the_psp_page(site, player, settings):
    settings.PSP_PUBLIC_URL = "http://psp.example"

    response = site.post("/cashier/deposit", {"deposit-amount": "20.00", "deposit-idempotency_key": "k-1"})

    assert response.status_code == 302 and response["Location"].startswith("http://psp.example/pay?")
    assert Payment.objects.get().status == PaymentStatus.REQUESTED


def test_a_bad_deposit_amount_is_shown_on_the_form_and_writes_nothing(site):
    response = site.post("/cashier/deposit", {"deposit-amount": "20.001", "deposit-idempotency_key": "k-1"})

    assert response.status_code == 400
    assert "at most 2 decimal places" in response.content.decode()
    assert not Payment.objects.exists()


def test_coming_back_from_the_psp_shows_the_outcome(site, player):
    payment = deposit_approved(player, "20.00")

    page = site.get(f"/cashier/return?payment={payment.pk}", follow=True).content.decode()

    assert "Your deposit of 20.00 EUR is in your balance." in page


def test_a_withdrawal_request_and_its_cancellation(site, player):
    deposit_approved(player, "50.00")

    site.post("/cashier/withdraw", {"withdrawal-amount": "30.00", "withdrawal-idempotency_key": "w-1"})
    site.post("/cashier/withdraw", {"withdrawal-amount": "30.00", "withdrawal-idempotency_key": "w-1"})  # resent
    held = wallet_balance(player)
    withdrawal = Payment.objects.get(kind="WITHDRAWAL")
    site.post(f"/cashier/withdrawals/{withdrawal.pk}/cancel")

    assert (held.real_money, held.withdrawal_hold) == (Decimal("20.00"), Decimal("30.00"))
    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.CANCELLED
    assert wallet_balance(player).real_money == Decimal("50.00")


def test_a_withdrawal_above_the_balance_is_refused_on_the_form(site, player):
    deposit_approved(player, "5.00")

    response = site.post("/cashier/withdraw", {"withdrawal-amount": "6.00", "withdrawal-idempotency_key": "w-1"})

    assert response.status_code == 400 and "You can withdraw up to 5.00 EUR" in response.content.decode()
    assert not Payment.objects.filter(kind="WITHDRAWAL").exists()
