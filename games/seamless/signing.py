"""How a provider signs a seamless-wallet request, and how we check it: the one place that knows.

Headers of every request:
- `X-Provider`: the vendor code;
- `X-Timestamp`: Unix time in seconds, within GAME_SIGNATURE_MAX_SKEW_SECONDS (default 300) of ours;
- `X-Nonce`: 8 to 64 characters, new for every request (a retry of a transaction gets a new one);
- `X-Signature`: lowercase hex HMAC-SHA256, keyed with the vendor's secret, of
  `<timestamp> "." <nonce> "." <raw body bytes>`.

A request whose nonce was already seen inside the window is a replay and is refused; a retry of the
same transaction is a new request (new timestamp, nonce and signature) with the same body. Spent
nonces are rows of `games.models.RequestNonce` in PostgreSQL, kept for twice the window.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from games.exceptions import (
    InvalidSignature,
    RequestExpired,
    RequestReplayed,
    UnknownProvider,
)
from games.models import RequestNonce

NONCE = re.compile(r"^[A-Za-z0-9_\-]{8,64}$")
HEADERS = ("X-Provider", "X-Timestamp", "X-Nonce", "X-Signature")


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"." + nonce.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(*, vendor: str, secret: str, body: bytes, timestamp: int | None = None,
                   nonce: str | None = None) -> dict[str, str]:
    """The headers of a signed request (tests, the admin's tools and the benchmark sign with this)."""
    import secrets

    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(12)
    return {"X-Provider": vendor, "X-Timestamp": stamp, "X-Nonce": nonce,
            "X-Signature": sign(secret, stamp, nonce, body)}


def provider_secret(vendor_code: str) -> str | None:
    return settings.GAME_PROVIDER_SECRETS.get(vendor_code) or None


@dataclass(frozen=True)
class SignedRequest:
    vendor_code: str
    timestamp: int
    nonce: str


def signature_check(*, headers, body: bytes, now: float | None = None) -> SignedRequest:
    """Check a request's signature and age, all but its nonce; raise the contract's error when one fails."""
    vendor_code, stamp, nonce, signature = (headers.get(name, "") for name in HEADERS)
    if not vendor_code:
        raise UnknownProvider("The X-Provider header is missing.")
    secret = provider_secret(vendor_code)
    if secret is None:
        raise UnknownProvider()
    if not stamp.isdigit() or not NONCE.match(nonce) or not signature:
        raise InvalidSignature("X-Timestamp, X-Nonce and X-Signature are required.")
    expected = sign(secret, stamp, nonce, body)
    if not hmac.compare_digest(expected, signature.lower()):
        raise InvalidSignature()
    now = time.time() if now is None else now
    if abs(now - int(stamp)) > settings.GAME_SIGNATURE_MAX_SKEW_SECONDS:
        raise RequestExpired()
    return SignedRequest(vendor_code=vendor_code, timestamp=int(stamp), nonce=nonce)


_NONCE_SPEND = (f"INSERT INTO {RequestNonce._meta.db_table} (vendor_code, nonce, spent_at) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING RETURNING true")


def nonce_spend(*, signed: SignedRequest) -> None:
    """Spend a checked request's nonce, on Django's connection and committed at once (outside a
    transaction), whatever the call's outcome then; raise RequestReplayed when it was spent before.

    Only a correctly signed request may spend a nonce, so an attacker cannot burn the nonces of real
    requests: call it after `signature_check`.
    """
    with connection.cursor() as cursor:
        cursor.execute(_NONCE_SPEND, [signed.vendor_code, signed.nonce, timezone.now()])
        if cursor.fetchone() is None:
            raise RequestReplayed()


def request_nonces_purge(*, now=None) -> int:
    """Delete the nonces spent longer ago than twice the signature's window: a request that old is
    refused for its timestamp before its nonce is looked at. Returns how many went."""
    keep_after = (now or timezone.now()) - timedelta(seconds=2 * settings.GAME_SIGNATURE_MAX_SKEW_SECONDS)
    deleted, _ = RequestNonce.objects.filter(spent_at__lt=keep_after).delete()
    return deleted
