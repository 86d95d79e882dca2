"""A property-based model of the wallet: random deposits, withdrawals, holds, reversals, adjustments and
replays, checked against a simple model and the ledger's invariants after every step."""

import itertools
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule, run_state_machine_as_test

from players.tests.factories import PlayerFactory
from wallet.exceptions import IdempotencyConflict, InsufficientFunds, PaymentStateConflict
from wallet.models import AccountKind, PaymentStatus
from wallet.selectors import wallet_balance
from wallet.services import payments
from wallet.services.adjustments import balance_adjust

amounts = st.integers(min_value=1, max_value=20_000).map(lambda cents: Decimal(cents).scaleb(-2))
_keys = itertools.count()

LEDGER_CHECK = """
SELECT
  (SELECT COUNT(*) FROM wallet_account a
     WHERE a.balance <> COALESCE((SELECT SUM(e.amount) FROM wallet_entry e WHERE e.account_id = a.id), 0)),
  (SELECT COUNT(*) FROM (SELECT currency FROM wallet_entry GROUP BY currency HAVING SUM(amount) <> 0) c),
  (SELECT COUNT(*) FROM (SELECT transaction_id FROM wallet_entry GROUP BY transaction_id, currency
                          HAVING SUM(amount) <> 0) t),
  (SELECT COUNT(*) FROM wallet_account WHERE player_id IS NOT NULL AND balance < 0)
"""


class WalletMachine(RuleBasedStateMachine):
    brand = None
    staff = None

    deposits = Bundle("deposits")
    withdrawals = Bundle("withdrawals")
    requests = Bundle("requests")

    def __init__(self):
        super().__init__()
        self.player = PlayerFactory(brand=self.brand)
        self.real = self.hold = self.bonus = Decimal(0)
        self.status: dict[int, str] = {}
        self.amount: dict[int, Decimal] = {}

    def key(self) -> str:
        return f"k{next(_keys)}"

    # --- deposits -------------------------------------------------------------------------------

    @rule(target=deposits, amount=amounts, approve=st.booleans())
    def deposit(self, amount, approve):
        payment = payments.deposit_request(player=self.player, amount=amount, currency="EUR",
                                           external_id=self.key()).payment
        if approve:
            payments.deposit_approve(payment_id=payment.pk, psp_reference="p", amount=str(amount), currency="EUR")
            self.real += amount
            self.status[payment.pk] = PaymentStatus.APPROVED
        else:
            payments.deposit_fail(payment_id=payment.pk, status=PaymentStatus.REJECTED, reason="declined")
            self.status[payment.pk] = PaymentStatus.REJECTED
        self.amount[payment.pk] = amount
        return payment.pk

    @rule(payment_id=deposits)
    def chargeback(self, payment_id):
        before = self.status[payment_id]
        if before not in (PaymentStatus.APPROVED, PaymentStatus.ROLLBACK):
            with pytest.raises(PaymentStateConflict):
                payments.deposit_rollback(payment_id=payment_id, reason="chargeback")
            return
        payments.deposit_rollback(payment_id=payment_id, reason="chargeback")
        if before == PaymentStatus.APPROVED:
            self.real -= min(self.real, self.amount[payment_id])
            self.status[payment_id] = PaymentStatus.ROLLBACK

    # --- withdrawals ----------------------------------------------------------------------------

    @rule(target=withdrawals, amount=amounts)
    def withdraw(self, amount):
        if amount > self.real:
            with pytest.raises(InsufficientFunds):
                payments.withdrawal_request(player=self.player, amount=amount, currency="EUR", external_id=self.key())
            return -1
        payment = payments.withdrawal_request(player=self.player, amount=amount, currency="EUR",
                                              external_id=self.key()).payment
        self.real -= amount
        self.hold += amount
        self.status[payment.pk], self.amount[payment.pk] = PaymentStatus.REQUESTED, amount
        return payment.pk

    @rule(payment_id=withdrawals, decision=st.sampled_from(["cancel", "reject", "approve"]))
    def decide(self, payment_id, decision):
        if payment_id < 0:
            return
        current, amount = self.status[payment_id], self.amount[payment_id]
        call = {
            "cancel": lambda: payments.withdrawal_cancel(player=self.player, payment_id=payment_id),
            "reject": lambda: payments.withdrawal_reject(payment_id=payment_id, actor=self.staff, reason="r"),
            "approve": lambda: payments.withdrawal_approve(payment_id=payment_id, actor=self.staff, reason="ok"),
        }[decision]
        if current == PaymentStatus.CANCELLED and decision == "cancel":
            call()  # idempotent
            return
        if current != PaymentStatus.REQUESTED:
            with pytest.raises(PaymentStateConflict):
                call()
            return
        call()
        self.hold -= amount
        if decision == "approve":
            self.status[payment_id] = PaymentStatus.APPROVED
        else:
            self.real += amount
            self.status[payment_id] = PaymentStatus.CANCELLED if decision == "cancel" else PaymentStatus.REJECTED

    @rule(payment_id=withdrawals)
    def payout_fails(self, payment_id):
        if payment_id < 0:
            return
        if self.status[payment_id] not in (PaymentStatus.APPROVED, PaymentStatus.ROLLBACK):
            with pytest.raises(PaymentStateConflict):
                payments.withdrawal_payout_failed(payment_id=payment_id, reason="bounced")
            return
        payments.withdrawal_payout_failed(payment_id=payment_id, reason="bounced")
        if self.status[payment_id] == PaymentStatus.APPROVED:
            self.real += self.amount[payment_id]
            self.status[payment_id] = PaymentStatus.ROLLBACK

    # --- adjustments and replays ----------------------------------------------------------------

    @rule(target=requests, amount=amounts, credit=st.booleans(), kind=st.sampled_from([AccountKind.REAL,
                                                                                         AccountKind.BONUS]))
    def adjust(self, amount, credit, kind):
        key = self.key()
        attribute = "real" if kind == AccountKind.REAL else "bonus"
        call = {"player": self.player, "account_kind": kind, "credit": credit, "amount": amount, "currency": "EUR",
                "external_id": key, "actor": self.staff, "reason": "property test"}
        if not credit and amount > getattr(self, attribute):
            with pytest.raises(InsufficientFunds):
                balance_adjust(**call)
            return None
        balance_adjust(**call)
        setattr(self, attribute, getattr(self, attribute) + (amount if credit else -amount))
        return call

    @rule(call=consumes(requests), same=st.booleans())
    def replay(self, call, same):
        if call is None:
            return
        if same:
            assert balance_adjust(**call).created is False  # the model does not change
        else:
            with pytest.raises(IdempotencyConflict):
                balance_adjust(**{**call, "amount": call["amount"] + Decimal("0.01")})

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def balances_match_the_model(self):
        balance = wallet_balance(self.player)
        assert (balance.real_money, balance.withdrawal_hold, balance.bonus_money) == (self.real, self.hold, self.bonus)

    @invariant()
    def the_ledger_balances_and_matches_every_cached_balance(self):
        with connection.cursor() as cursor:
            cursor.execute(LEDGER_CHECK)
            drifted_accounts, unbalanced_currencies, unbalanced_transactions, negative = cursor.fetchone()
        assert (drifted_accounts, unbalanced_currencies, unbalanced_transactions, negative) == (0, 0, 0, 0)


@pytest.mark.django_db
def test_the_wallet_behaves_like_its_model(brand, compliance):
    WalletMachine.brand, WalletMachine.staff = brand, compliance
    run_state_machine_as_test(WalletMachine, settings=settings(
        max_examples=20, stateful_step_count=25, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    ))
