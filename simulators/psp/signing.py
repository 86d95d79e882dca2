"""The PSP's side of the signature scheme (the platform has its own copy in wallet/psp.py: the two
parties share a secret and a contract, not code)."""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-PSP-Timestamp"
SIGNATURE_HEADER = "X-PSP-Signature"


def sign(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(secret, stamp.encode() + b"." + body),
            "Content-Type": "application/json"}


def request_is_genuine(secret: str, headers, body: bytes, tolerance: int = 300) -> bool:
    """A signed request from the platform: good signature, timestamp within `tolerance` seconds."""
    stamp, signature = headers.get(TIMESTAMP_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
    if not stamp.isdigit() or not signature:
        return False
    if abs(time.time() - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp.encode() + b"." + body), signature.lower())


def query_is_genuine(secret: str, raw_query: str) -> bool:
    """The hosted page's query: everything before "&signature=" is signed."""
    unsigned, marker, signature = raw_query.rpartition("&signature=")
    return bool(marker) and hmac.compare_digest(sign(secret, unsigned.encode()), signature.lower())
