"""PSP webhooks: only genuine, fresh, first-seen messages get in; each event is applied once."""

import json
import time
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache

from wallet import psp
from wallet.models import Payment, PaymentStatus, PayoutStatus, PspWebhook
from wallet.selectors import wallet_balance
from wallet.services import payments
from wallet.tests.factories import deposit_approved, new_key, withdrawal_requested

pytestmark = pytest.mark.django_db
URL = "/api/v1/psp/webhook"


@pytest.fixture(autouse=True)
def _fresh_replay_memory():
    cache.clear()  # this test run's own Redis database


@pytest.fixture
def deposit(player):
    return payments.deposit_request(player=player, amount="30.00", currency="EUR", external_id=new_key()).payment


def event(payment, event_type="payment.approved", **overrides):
    return {"event_id": str(uuid.uuid4()), "type": event_type, "merchant_reference": str(payment.pk),
            "psp_reference": f"psp-{payment.pk}", "amount": f"{payment.amount:.2f}", "currency": payment.currency,
            **overrides}


def send(api, payload, *, timestamp=None, secret=None, headers=None):
    body = json.dumps(payload).encode() if isinstance(payload, dict) else payload
    signed = psp.signed_headers(body, timestamp=timestamp, secret=secret)
    signed.pop("Content-Type")
    return api.post(URL, data=body, content_type="application/json", headers=headers or signed)


def test_a_signed_approval_credits_the_deposit(api, player, deposit):
    response = send(api, event(deposit))

    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "applied", "payment_id": str(deposit.pk), "payment_status": "Approved"}
    assert wallet_balance(player).real_money == Decimal("30.00")
    assert PspWebhook.objects.get().result == "Approved"


@pytest.mark.parametrize("tamper", ["secret", "body", "missing", "not-hex"])
def test_a_webhook_with_a_bad_signature_is_refused_and_changes_nothing(api, player, deposit, tamper):
    payload = event(deposit)
    body = json.dumps(payload).encode()
    if tamper == "secret":
        response = send(api, payload, secret="not-the-shared-secret")
    elif tamper == "body":
        headers = psp.signed_headers(body)
        headers.pop("Content-Type")
        response = api.post(URL, data=body.replace(b"30.00", b"3000.00"), content_type="application/json",
                            headers=headers)
    elif tamper == "missing":
        response = api.post(URL, data=body, content_type="application/json")
    else:
        response = send(api, payload, headers={psp.TIMESTAMP_HEADER: str(int(time.time())),
                                               psp.SIGNATURE_HEADER: "zz"})

    assert response.status_code == 401
    assert response.json()["code"] == "webhook_refused"
    deposit.refresh_from_db()
    assert deposit.status == PaymentStatus.REQUESTED and not PspWebhook.objects.exists()


@pytest.mark.parametrize("skew", [-305, 305])  # a few seconds past the 300 s window: no clock races
def test_a_webhook_outside_five_minutes_is_refused(api, player, deposit, skew):
    response = send(api, event(deposit), timestamp=int(time.time()) + skew)

    assert response.status_code == 401
    deposit.refresh_from_db()
    assert deposit.status == PaymentStatus.REQUESTED


def test_a_webhook_inside_the_window_is_accepted(api, player, deposit):
    response = send(api, event(deposit), timestamp=int(time.time()) - 290)

    assert response.status_code == 200


def test_a_replayed_webhook_is_refused(api, player, deposit):
    body = json.dumps(event(deposit)).encode()
    headers = psp.signed_headers(body)
    headers.pop("Content-Type")

    first = api.post(URL, data=body, content_type="application/json", headers=headers)
    replay = api.post(URL, data=body, content_type="application/json", headers=headers)

    assert first.status_code == 200
    assert replay.status_code == 409 and replay.json()["code"] == "webhook_replayed"
    assert wallet_balance(player).real_money == Decimal("30.00")


def test_a_webhook_that_cannot_be_checked_for_replay_gets_a_503_and_changes_nothing(
        api, player, deposit, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    def redis_down(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(psp.cache, "add", redis_down)

    response = send(api, event(deposit))

    assert response.status_code == 503 and response.json()["code"] == "replay_check_unavailable"
    assert Payment.objects.get(pk=deposit.pk).status == PaymentStatus.REQUESTED
    assert wallet_balance(player).real_money == Decimal("0.00")


def test_the_psp_resending_an_event_is_applied_once(api, player, deposit):
    payload = event(deposit)

    first = send(api, payload, timestamp=int(time.time()) - 1)
    again = send(api, {**payload, "attempt": 2})

    assert first.json()["status"] == "applied"
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert wallet_balance(player).real_money == Decimal("30.00")
    assert PspWebhook.objects.count() == 1 and deposit.transactions.count() == 1


def test_a_second_approval_under_a_new_event_id_changes_nothing(api, player, deposit):
    send(api, event(deposit))

    response = send(api, event(deposit))

    assert response.status_code == 200 and response.json()["payment_status"] == "Approved"
    assert wallet_balance(player).real_money == Decimal("30.00")


def test_an_approval_for_another_amount_is_a_409_and_books_nothing(api, player, deposit):
    response = send(api, event(deposit, amount="31.00"))

    assert response.status_code == 409 and response.json()["code"] == "psp_mismatch"
    assert not PspWebhook.objects.exists()
    assert wallet_balance(player).real_money == 0


@pytest.mark.parametrize("payload", [
    b"not json", b"[]", {"type": "payment.approved"}, {"event_id": "e1", "type": "payment.refund",
                                                        "merchant_reference": "1", "amount": "1", "currency": "EUR"},
    {"event_id": "e1", "type": "payment.approved", "merchant_reference": "abc", "amount": "1", "currency": "EUR"},
])
def test_a_malformed_webhook_is_a_400(api, payload):
    response = send(api, payload)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not PspWebhook.objects.exists()


def test_a_webhook_for_an_unknown_payment_is_a_404(db, api):
    response = send(api, {"event_id": "e1", "type": "payment.approved", "merchant_reference": "999999",
                          "amount": "1.00", "currency": "EUR"})

    assert response.status_code == 404 and response.json()["code"] == "payment_not_found"


def test_decline_cancel_and_chargeback_webhooks_move_the_deposit(api, player):
    declined = payments.deposit_request(player=player, amount="5.00", currency="EUR", external_id="a").payment
    cancelled = payments.deposit_request(player=player, amount="6.00", currency="EUR", external_id="b").payment
    charged_back = deposit_approved(player, "7.00")

    statuses = [send(api, event(declined, "payment.declined", reason="insufficient funds")).json()["payment_status"],
                send(api, event(cancelled, "payment.cancelled")).json()["payment_status"],
                send(api, event(charged_back, "payment.chargeback")).json()["payment_status"]]

    assert statuses == ["Rejected", "Cancelled", "Rollback"]
    assert Payment.objects.get(pk=declined.pk).reason == "insufficient funds"
    assert wallet_balance(player).real_money == 0


def test_payout_webhooks_confirm_or_roll_back_an_approved_withdrawal(api, player, compliance):
    deposit_approved(player, "100.00")
    paid = withdrawal_requested(player, "30.00")
    failed = withdrawal_requested(player, "20.00")
    for withdrawal in (paid, failed):
        payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")

    send(api, event(paid, "payout.completed"))
    send(api, event(failed, "payout.failed", reason="account closed"))

    paid.refresh_from_db()
    failed.refresh_from_db()
    assert (paid.status, paid.payout_status) == (PaymentStatus.APPROVED, PayoutStatus.CONFIRMED)
    assert (failed.status, failed.payout_status) == (PaymentStatus.ROLLBACK, PayoutStatus.FAILED)
    assert wallet_balance(player).real_money == Decimal("70.00")
