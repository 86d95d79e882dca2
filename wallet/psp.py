"""The payment provider's contract: the one module that knows its messages.

- Webhooks (PSP -> us): JSON body, headers `X-PSP-Timestamp` (Unix seconds) and `X-PSP-Signature`
  (hex HMAC-SHA256 of "<timestamp>.<body>" with PSP_WEBHOOK_SECRET). Refused: a bad signature, a
  timestamp more than PSP_WEBHOOK_TOLERANCE_SECONDS away, and a replay of a signature already seen
  (remembered in Redis for twice the tolerance; older ones fail the timestamp check anyway).
  A retry by the PSP is signed afresh and is applied once thanks to its `event_id` (see
  `wallet.services.webhooks`).
- Hosted payment page (player's browser -> PSP): a URL whose query carries the payment reference,
  amount, currency, return URL and expiry, signed the same way so the amount cannot be edited.
- Payouts (us -> PSP): POST /api/payouts, signed like a webhook, idempotent at the PSP by reference.

Amounts travel as strings of decimal digits ("10.50"), never JSON floats.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from wallet.exceptions import (
    PspUnavailable,
    ReplayCheckUnavailable,
    WalletInputInvalid,
    WebhookRefused,
    WebhookReplayed,
)
from wallet.money import money_str

TIMESTAMP_HEADER = "X-PSP-Timestamp"
SIGNATURE_HEADER = "X-PSP-Signature"
EVENT_TYPES = ("payment.approved", "payment.declined", "payment.cancelled", "payment.chargeback",
               "payout.completed", "payout.failed")


def sign(message: bytes, secret: str | None = None) -> str:
    return hmac.new((secret or settings.PSP_WEBHOOK_SECRET).encode(), message, hashlib.sha256).hexdigest()


def signed_headers(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
    """Headers for a signed request to or from the PSP."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(stamp.encode() + b"." + body, secret),
            "Content-Type": "application/json"}


def webhook_authenticate(*, body: bytes, timestamp: str | None, signature: str | None,
                         now: float | None = None) -> None:
    """Raise WebhookRefused (401) or WebhookReplayed (409) unless the webhook is genuine and fresh."""
    if not timestamp or not signature:
        raise WebhookRefused("The signature headers are missing.")
    expected = sign(timestamp.encode() + b"." + body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise WebhookRefused("The signature does not match.")
    try:
        stamp = int(timestamp)
    except ValueError:
        raise WebhookRefused("The timestamp is not a number.") from None
    tolerance = settings.PSP_WEBHOOK_TOLERANCE_SECONDS
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        raise WebhookRefused("The timestamp is outside the accepted window.")
    try:
        first_use = cache.add(f"wallet:psp-signature:{expected}", 1, timeout=2 * tolerance + 60)
    except RedisError:
        raise ReplayCheckUnavailable() from None
    if not first_use:
        raise WebhookReplayed()


@dataclass(frozen=True)
class PspEvent:
    event_id: str
    type: str
    payment_id: str
    psp_reference: str
    amount: str
    currency: str
    reason: str
    payload: dict


def _text(data: dict, key: str, *, max_length: int = 100, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > max_length or (required and not value):
        raise WalletInputInvalid(fields={key: [f"A string of 1-{max_length} characters is required."]})
    return value


def webhook_parse(body: bytes) -> PspEvent:
    """The webhook's fields, checked for shape (the services check them against the payment)."""
    try:
        data = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise WalletInputInvalid("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise WalletInputInvalid("The body must be a JSON object.")
    event_type = _text(data, "type", max_length=40)
    if event_type not in EVENT_TYPES:
        raise WalletInputInvalid(fields={"type": [f"Use one of {', '.join(EVENT_TYPES)}."]})
    payment_id = _text(data, "merchant_reference", max_length=20)
    if not payment_id.isdigit():
        raise WalletInputInvalid(fields={"merchant_reference": ["Our payment id, digits only."]})
    return PspEvent(
        event_id=_text(data, "event_id"), type=event_type, payment_id=payment_id,
        psp_reference=_text(data, "psp_reference", required=False), amount=_text(data, "amount", max_length=40),
        currency=_text(data, "currency", max_length=3), reason=_text(data, "reason", max_length=500, required=False),
        payload={key: str(value) if isinstance(value, Decimal) else value for key, value in data.items()},
    )


def hosted_page_url(*, payment_id: int, amount: Decimal, currency: str, return_url: str,
                    expires_at: int) -> str:
    """Where the player pays: the PSP's page, with signed parameters."""
    params = sorted({
        "merchant_reference": str(payment_id), "amount": money_str(amount, currency), "currency": currency,
        "return_url": return_url, "expires": str(expires_at),
    }.items())
    query = urlencode(params)
    return f"{settings.PSP_PUBLIC_URL.rstrip('/')}/pay?{query}&signature={sign(query.encode())}"


def payout_create(*, payment_id: int, amount: Decimal, currency: str) -> str:
    """Ask the PSP to pay a withdrawal out; returns its reference. Raises PspUnavailable.

    Network I/O: never call it inside a database transaction.
    """
    body = json.dumps({"merchant_reference": str(payment_id), "amount": money_str(amount, currency),
                       "currency": currency}).encode()
    try:
        response = requests.post(f"{settings.PSP_BASE_URL.rstrip('/')}/api/payouts", data=body,
                                 headers=signed_headers(body), timeout=settings.PSP_TIMEOUT_SECONDS)
    except requests.RequestException as error:
        raise PspUnavailable(f"The PSP did not answer: {type(error).__name__}.") from None
    if response.status_code not in (200, 201, 202):
        raise PspUnavailable(f"The PSP answered HTTP {response.status_code}.")
    try:
        return str(response.json()["psp_reference"])[:100]
    except (ValueError, KeyError, TypeError):
        raise PspUnavailable("The PSP's answer had no reference.") from None


def checkout_url(payment) -> str:
    """The hosted page for a Requested deposit, returning the player to the cashier. The same URL every
    time for the same payment (its expiry is derived from when it was requested)."""
    expires_at = payment.created_at + timedelta(minutes=settings.PSP_DEPOSIT_EXPIRY_MINUTES)
    return hosted_page_url(
        payment_id=payment.pk, amount=payment.amount, currency=payment.currency,
        return_url=f"{settings.SITE_URL.rstrip('/')}/cashier/return?payment={payment.pk}",
        expires_at=int(expires_at.timestamp()),
    )
