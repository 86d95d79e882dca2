"""Wallet test data, made through the services (a ledger cannot be faked consistently by hand)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from wallet.models import Payment
from wallet.services import payments


def new_key() -> str:
    return uuid.uuid4().hex


def deposit_approved(player, amount: str | Decimal, *, external_id: str | None = None) -> Payment:
    """A deposit the PSP approved: the player's real money goes up by `amount`."""
    result = payments.deposit_request(player=player, amount=amount, currency=player.currency,
                                      external_id=external_id or new_key())
    return payments.deposit_approve(payment_id=result.payment.pk, psp_reference=f"psp-{result.payment.pk}",
                                    amount=str(amount), currency=player.currency)


def withdrawal_requested(player, amount: str | Decimal, *, external_id: str | None = None) -> Payment:
    return payments.withdrawal_request(player=player, amount=amount, currency=player.currency,
                                       external_id=external_id or new_key()).payment
