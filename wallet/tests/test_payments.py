"""Deposits, withdrawals and chargebacks through the services: balances, ledger, events and audit."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEntry
from crm.models import EventType, OutboxEvent
from players.models import LimitKind, LimitPeriod
from players.services.blocks import player_block, player_self_exclude
from players.services.limits import player_limit_set
from wallet.exceptions import (
    DepositLimitExceeded,
    DepositsNotAllowed,
    IdempotencyConflict,
    InsufficientFunds,
    PaymentStateConflict,
    PspMismatch,
    ReasonRequired,
    WalletInputInvalid,
)
from wallet.models import (
    Account,
    AccountKind,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    PayoutStatus,
    TransactionKind,
)
from wallet.selectors import house_balance, wallet_balance
from wallet.services import payments
from wallet.tests.factories import deposit_approved, withdrawal_requested

pytestmark = pytest.mark.django_db


def balances(player):
    balance = wallet_balance(player)
    return balance.real_money, balance.withdrawal_hold


def events(player, event_type):
    return [event.payload for event in OutboxEvent.objects.filter(player_id=player.pk, event_type=event_type)
            .order_by("id")]


# --- deposits ---------------------------------------------------------------------------------


def test_a_deposit_request_records_a_requested_payment_and_moves_no_money(player):
    result = payments.deposit_request(player=player, amount="25.50", currency="EUR", external_id="dep-1")

    assert result.created and result.payment.status == PaymentStatus.REQUESTED
    assert result.payment.amount == Decimal("25.50")
    assert balances(player) == (0, 0)
    assert not LedgerTransaction.objects.exists()
    [event] = events(player, EventType.PAYMENT)
    assert event["status"] == "Requested" and event["type"] == "Credit"
    assert event["payment_id"] == str(result.payment.pk) and event["amount"] == 25.5


def test_an_approved_deposit_credits_real_money_from_psp_clearing_and_tells_the_crm(player):
    payment = payments.deposit_request(player=player, amount="25.50", currency="EUR", external_id="dep-1").payment

    payments.deposit_approve(payment_id=payment.pk, psp_reference="psp-9", amount="25.50", currency="EUR")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.APPROVED and payment.psp_reference == "psp-9"
    assert balances(player) == (Decimal("25.50"), 0)
    assert house_balance(AccountKind.PSP_CLEARING, "EUR") == Decimal("-25.50")
    deposit_tx = payment.transactions.get()
    assert deposit_tx.kind == TransactionKind.DEPOSIT and deposit_tx.amount == Decimal("25.50")
    assert [event["status"] for event in events(player, EventType.PAYMENT)] == ["Requested", "Approved"]
    [balance_event] = events(player, EventType.USER_BALANCES_UPDATE)
    assert balance_event["balances"][0] == {"amount": 25.5, "currency": "EUR", "key": "real_money",
                                            "exchange_rate": 1}
    assert balance_event["balances"][1]["key"] == "bonus_money" and balance_event["balances"][1]["amount"] == 0


def test_approving_a_deposit_twice_books_it_once(player):
    payment = payments.deposit_request(player=player, amount="10", currency="EUR", external_id="dep-1").payment
    for _ in range(2):
        payments.deposit_approve(payment_id=payment.pk, psp_reference="psp-1", amount="10.00", currency="EUR")

    assert balances(player) == (Decimal("10.00"), 0)
    assert payment.transactions.count() == 1
    assert len(events(player, EventType.USER_BALANCES_UPDATE)) == 1


def test_a_psp_approval_for_another_amount_is_refused(player):
    payment = payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="dep-1").payment

    with pytest.raises(PspMismatch):
        payments.deposit_approve(payment_id=payment.pk, psp_reference="psp-1", amount="100.00", currency="EUR")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUESTED
    assert balances(player) == (0, 0)


def test_a_declined_deposit_is_rejected_and_cannot_be_approved_afterwards(player):
    payment = payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="dep-1").payment

    payments.deposit_fail(payment_id=payment.pk, status=PaymentStatus.REJECTED, reason="card declined")
    with pytest.raises(PaymentStateConflict):
        payments.deposit_approve(payment_id=payment.pk, psp_reference="psp-1", amount="10.00", currency="EUR")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REJECTED
    assert balances(player) == (0, 0)
    assert [event["status"] for event in events(player, EventType.PAYMENT)] == ["Requested", "Rejected"]


def test_a_repeated_deposit_request_returns_the_first_payment(player):
    first = payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="dep-1")
    again = payments.deposit_request(player=player, amount="10", currency="EUR", external_id="dep-1")

    assert first.created and not again.created
    assert again.payment.pk == first.payment.pk
    assert Payment.objects.count() == 1
    assert len(events(player, EventType.PAYMENT)) == 1


def test_the_same_idempotency_key_for_another_amount_or_kind_is_a_conflict(player):
    payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="dep-1")
    deposit_approved(player, "50.00")

    with pytest.raises(IdempotencyConflict):
        payments.deposit_request(player=player, amount="11.00", currency="EUR", external_id="dep-1")
    with pytest.raises(IdempotencyConflict):
        payments.withdrawal_request(player=player, amount="10.00", currency="EUR", external_id="dep-1")

    assert Payment.objects.filter(external_id="dep-1").count() == 1
    assert balances(player) == (Decimal("50.00"), 0)


@pytest.mark.parametrize(("amount", "currency", "field"), [
    ("abc", "EUR", "amount"), ("NaN", "EUR", "amount"), ("Infinity", "EUR", "amount"),
    (Decimal("NaN"), "EUR", "amount"), (Decimal("Infinity"), "EUR", "amount"), ("0", "EUR", "amount"),
    ("-5", "EUR", "amount"), (-5, "EUR", "amount"),
    ("10.001", "EUR", "amount"), (10.5, "EUR", "amount"), (True, "EUR", "amount"), ("1e3", "EUR", "amount"),
    ("10000000000", "EUR", "amount"), (Decimal("1E+100"), "EUR", "amount"), (None, "EUR", "amount"),
    ("10.00", "USD", "currency"), ("10.00", "XXX", "currency"), ("10.00", None, "currency"),
])
def test_bad_amounts_and_currencies_are_refused_and_write_nothing(player, amount, currency, field):
    with pytest.raises(WalletInputInvalid) as refused:
        payments.deposit_request(player=player, amount=amount, currency=currency, external_id="dep-1")

    assert field in refused.value.fields
    assert not Payment.objects.exists() and not OutboxEvent.objects.filter(event_type=EventType.PAYMENT).exists()


def test_amounts_follow_the_currency_minor_units(player):
    player.currency = "JPY"
    player.save(update_fields=["currency"])
    with pytest.raises(WalletInputInvalid):
        payments.deposit_request(player=player, amount="100.5", currency="JPY", external_id="jpy-1")
    payment = payments.deposit_request(player=player, amount="1500", currency="JPY", external_id="jpy-2").payment
    assert payment.amount == Decimal("1500")

    player.currency = "BTC"
    player.save(update_fields=["currency"])
    btc = payments.deposit_request(player=player, amount="0.00000001", currency="BTC", external_id="btc-1").payment
    assert btc.amount == Decimal("0.00000001")
    with pytest.raises(WalletInputInvalid):
        payments.deposit_request(player=player, amount="0.000000001", currency="BTC", external_id="btc-2")


def test_a_blocked_or_self_excluded_player_cannot_deposit_but_can_withdraw(player, compliance):
    deposit_approved(player, "30.00")
    player_block(player=player, reason="fraud check", actor_user=compliance)
    player.refresh_from_db()

    with pytest.raises(DepositsNotAllowed):
        payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="dep-2")
    withdrawal = withdrawal_requested(player, "30.00")

    assert withdrawal.status == PaymentStatus.REQUESTED
    assert balances(player) == (0, Decimal("30.00"))


def test_a_self_excluded_player_cannot_deposit(player):
    player_self_exclude(player=player, until=None)
    player.refresh_from_db()

    with pytest.raises(DepositsNotAllowed):
        payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="dep-1")
    assert not Payment.objects.exists()


def test_a_daily_deposit_limit_counts_pending_and_approved_deposits_of_the_utc_day(player):
    player_limit_set(player=player, kind=LimitKind.DEPOSIT, period=LimitPeriod.DAY, value="100.00")
    deposit_approved(player, "60.00")
    payments.deposit_request(player=player, amount="30.00", currency="EUR", external_id="pending")

    with pytest.raises(DepositLimitExceeded) as refused:
        payments.deposit_request(player=player, amount="10.01", currency="EUR", external_id="over")
    payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="exactly-at-limit")

    assert "10.00 EUR" in refused.value.fields["amount"][0]
    assert not Payment.objects.filter(external_id="over").exists()
    assert Payment.objects.filter(player=player).count() == 3


def test_a_rejected_deposit_frees_its_share_of_the_limit(player):
    player_limit_set(player=player, kind=LimitKind.DEPOSIT, period=LimitPeriod.WEEK, value="50.00")
    first = payments.deposit_request(player=player, amount="50.00", currency="EUR", external_id="a").payment
    with pytest.raises(DepositLimitExceeded):
        payments.deposit_request(player=player, amount="1.00", currency="EUR", external_id="b")

    payments.deposit_fail(payment_id=first.pk, status=PaymentStatus.REJECTED, reason="declined")

    assert payments.deposit_request(player=player, amount="50.00", currency="EUR", external_id="c").created


def test_deposit_limit_periods_are_calendar_periods_in_utc(player):
    player_limit_set(player=player, kind=LimitKind.DEPOSIT, period=LimitPeriod.MONTH, value="100.00")
    with time_machine.travel("2026-03-31 23:00:00Z", tick=False):
        deposit_approved(player, "100.00")
        with pytest.raises(DepositLimitExceeded):
            payments.deposit_request(player=player, amount="1.00", currency="EUR", external_id="same-month")
    with time_machine.travel("2026-04-01 00:00:01Z", tick=False):
        assert payments.deposit_request(player=player, amount="100.00", currency="EUR", external_id="next").created


def test_abandoned_deposits_expire_as_cancelled(player, settings):
    settings.PSP_DEPOSIT_EXPIRY_MINUTES = 30
    old = payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="old").payment
    Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=31))
    fresh = payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="fresh").payment

    assert payments.deposits_expire() == 1

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.status, fresh.status) == (PaymentStatus.CANCELLED, PaymentStatus.REQUESTED)


# --- chargebacks --------------------------------------------------------------------------------


def test_a_chargeback_reverses_the_deposit_once_and_reuses_its_payment_id(player):
    payment = deposit_approved(player, "40.00")

    payments.deposit_rollback(payment_id=payment.pk, reason="chargeback")
    payments.deposit_rollback(payment_id=payment.pk, reason="chargeback again")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.ROLLBACK
    assert balances(player) == (0, 0)
    assert house_balance(AccountKind.PSP_CLEARING, "EUR") == 0
    rollback = payment.transactions.get(kind=TransactionKind.DEPOSIT_ROLLBACK)
    assert rollback.reverses == payment.transactions.get(kind=TransactionKind.DEPOSIT)
    payment_events = events(player, EventType.PAYMENT)
    assert [event["status"] for event in payment_events] == ["Requested", "Approved", "Rollback"]
    assert payment_events[-1]["payment_id"] == payment_events[0]["payment_id"] == str(payment.pk)


def test_a_chargeback_on_money_already_spent_books_the_shortfall_as_a_house_loss(player):
    payment = deposit_approved(player, "40.00")
    withdrawal_requested(player, "30.00")

    payments.deposit_rollback(payment_id=payment.pk, reason="chargeback")

    assert balances(player) == (0, Decimal("30.00"))
    assert house_balance(AccountKind.CHARGEBACK_LOSS, "EUR") == Decimal("-30.00")
    assert house_balance(AccountKind.PSP_CLEARING, "EUR") == 0


def test_a_pending_deposit_cannot_be_rolled_back(player):
    payment = payments.deposit_request(player=player, amount="10.00", currency="EUR", external_id="d").payment
    with pytest.raises(PaymentStateConflict):
        payments.deposit_rollback(payment_id=payment.pk, reason="chargeback")
    assert not LedgerTransaction.objects.exists()


# --- withdrawals --------------------------------------------------------------------------------


def test_a_withdrawal_request_holds_the_money_so_it_cannot_be_spent(player):
    deposit_approved(player, "50.00")

    withdrawal = withdrawal_requested(player, "20.00")

    assert balances(player) == (Decimal("30.00"), Decimal("20.00"))
    hold_tx = withdrawal.transactions.get()
    assert hold_tx.kind == TransactionKind.WITHDRAWAL_HOLD
    payment_events = events(player, EventType.PAYMENT)
    assert (payment_events[-1]["status"], payment_events[-1]["type"]) == ("Requested", "Debit")
    assert events(player, EventType.USER_BALANCES_UPDATE)[-1]["balances"][0]["amount"] == 30
    with pytest.raises(InsufficientFunds):
        withdrawal_requested(player, "30.01")
    assert balances(player) == (Decimal("30.00"), Decimal("20.00"))


def test_a_player_can_cancel_a_pending_withdrawal_and_gets_the_money_back(player):
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")

    payments.withdrawal_cancel(player=player, payment_id=withdrawal.pk)
    payments.withdrawal_cancel(player=player, payment_id=withdrawal.pk)  # idempotent

    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.CANCELLED
    assert balances(player) == (Decimal("50.00"), 0)
    release = withdrawal.transactions.get(kind=TransactionKind.WITHDRAWAL_RELEASE)
    assert release.reverses.kind == TransactionKind.WITHDRAWAL_HOLD
    assert events(player, EventType.PAYMENT)[-1]["status"] == "Cancelled"


def test_staff_approval_pays_the_hold_out_through_psp_clearing_with_an_audit_row(player, compliance):
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")

    payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="KYC ok")

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status) == (PaymentStatus.APPROVED, PayoutStatus.PENDING)
    assert withdrawal.decided_by == compliance
    assert balances(player) == (Decimal("30.00"), 0)
    assert house_balance(AccountKind.PSP_CLEARING, "EUR") == Decimal("-30.00")
    audit = AuditEntry.objects.get(action="wallet.withdrawal_approve")
    assert (audit.actor, audit.reason, audit.target_id) == (compliance, "KYC ok", str(withdrawal.pk))
    assert events(player, EventType.PAYMENT)[-1]["status"] == "Approved"
    with pytest.raises(PaymentStateConflict):
        payments.withdrawal_cancel(player=player, payment_id=withdrawal.pk)


def test_staff_rejection_needs_a_reason_and_releases_the_hold(player, compliance):
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")

    with pytest.raises(ReasonRequired):
        payments.withdrawal_reject(payment_id=withdrawal.pk, actor=compliance, reason="  ")
    payments.withdrawal_reject(payment_id=withdrawal.pk, actor=compliance, reason="bonus abuse")

    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.REJECTED
    assert balances(player) == (Decimal("50.00"), 0)
    assert AuditEntry.objects.filter(action="wallet.withdrawal_reject", reason="bonus abuse").count() == 1
    rejected = events(player, EventType.PAYMENT)[-1]
    assert rejected["status"] == "Rejected" and "note" not in rejected  # internal reasons stay internal


def test_support_staff_cannot_approve_withdrawals(player, support):
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")

    with pytest.raises(Exception, match="not allowed"):
        payments.withdrawal_approve(payment_id=withdrawal.pk, actor=support, reason="ok")

    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.REQUESTED


def test_a_failed_payout_rolls_the_withdrawal_back_to_real_money(player, compliance):
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")
    payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")

    payments.withdrawal_payout_failed(payment_id=withdrawal.pk, reason="IBAN closed")
    payments.withdrawal_payout_failed(payment_id=withdrawal.pk, reason="IBAN closed")

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status) == (PaymentStatus.ROLLBACK, PayoutStatus.FAILED)
    assert balances(player) == (Decimal("50.00"), 0)
    assert house_balance(AccountKind.PSP_CLEARING, "EUR") == Decimal("-50.00")
    statuses = [event["status"] for event in events(player, EventType.PAYMENT) if event["type"] == "Debit"]
    assert statuses == ["Requested", "Approved", "Rollback"]


def test_a_confirmed_payout_cannot_fail_afterwards(player, compliance):
    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")
    payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")
    payments.withdrawal_payout_confirmed(payment_id=withdrawal.pk, psp_reference="po-1", amount="20.00",
                                         currency="EUR")

    with pytest.raises(PaymentStateConflict):
        payments.withdrawal_payout_failed(payment_id=withdrawal.pk, reason="late failure")

    withdrawal.refresh_from_db()
    assert (withdrawal.status, withdrawal.payout_status) == (PaymentStatus.APPROVED, PayoutStatus.CONFIRMED)
    assert balances(player) == (Decimal("30.00"), 0)


def test_another_players_withdrawal_is_not_found(player, brand):
    from players.tests.factories import PlayerFactory

    deposit_approved(player, "50.00")
    withdrawal = withdrawal_requested(player, "20.00")
    stranger = PlayerFactory(brand=brand)

    with pytest.raises(Exception, match="not found"):
        payments.withdrawal_cancel(player=stranger, payment_id=withdrawal.pk)
    withdrawal.refresh_from_db()
    assert withdrawal.status == PaymentStatus.REQUESTED


def test_every_account_matches_its_ledger_after_a_full_cycle(player, compliance):
    deposit = deposit_approved(player, "100.00")
    withdrawal = withdrawal_requested(player, "40.00")
    payments.withdrawal_approve(payment_id=withdrawal.pk, actor=compliance, reason="ok")
    cancelled = withdrawal_requested(player, "10.00")
    payments.withdrawal_cancel(player=player, payment_id=cancelled.pk)
    payments.deposit_rollback(payment_id=deposit.pk, reason="chargeback")

    from django.db.models import Sum

    for account in Account.objects.all():
        ledger = account.entries.aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == ledger, account
    assert balances(player) == (0, 0)
    assert house_balance(AccountKind.CHARGEBACK_LOSS, "EUR") == Decimal("-40.00")
