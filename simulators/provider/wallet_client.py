"""The provider's side of the seamless-wallet contract: signed calls, with retries of the same transaction.

Signing (the platform's docs/games.md): headers X-Provider, X-Timestamp (Unix seconds), X-Nonce (new
for each attempt) and X-Signature = hex HMAC-SHA256(secret, "<timestamp>.<nonce>.<raw body>").
A call that times out or loses its connection is sent again with the same body (so the same
transaction id) and a new nonce: the wallet answers a retry with its first answer.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit


def sign(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + nonce.encode() + b"." + body,
                    hashlib.sha256).hexdigest()


def signed_headers(vendor: str, secret: str, body: bytes) -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(12)
    return {"X-Provider": vendor, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": sign(secret, timestamp, nonce, body), "Content-Type": "application/json"}


class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return format(o, "f")
        return super().default(o)


@dataclass
class Result:
    status: int  # 0 when no answer came after every attempt
    body: dict
    attempts: int
    latency_ms: float  # of the last attempt

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def code(self) -> str:
        return "OK" if self.ok else str(self.body.get("code") or f"HTTP_{self.status}")


class WalletClient:
    """One keep-alive connection to the wallet API. Not thread-safe: one client per thread."""

    def __init__(self, base_url: str, *, vendor: str, secret: str, timeout: float = 5.0, attempts: int = 4,
                 backoff: float = 0.2, drop_rate: float = 0.0, rng=None):
        parts = urlsplit(base_url.rstrip("/"))
        self.host, self.port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        self.https = parts.scheme == "https"
        self.prefix = parts.path
        self.vendor, self.secret = vendor, secret
        self.timeout, self.attempts, self.backoff = timeout, attempts, backoff
        # The share of answers thrown away as if they timed out, to show retries at work (demo only).
        self.drop_rate, self.rng = drop_rate, rng
        self.retries = 0
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            cls = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            self._connection = cls(self.host, self.port, timeout=self.timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send_once(self, path: str, body: bytes) -> tuple[int, dict]:
        connection = self._connect()
        connection.request("POST", f"{self.prefix}/{path}", body=body,
                           headers=signed_headers(self.vendor, self.secret, body))
        response = connection.getresponse()
        raw = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        try:
            data = json.loads(raw, parse_float=Decimal) if raw else {}
        except ValueError:
            data = {"error": raw[:200].decode(errors="replace"), "code": f"HTTP_{response.status}"}
        return response.status, data

    def call(self, path: str, payload: dict) -> Result:
        """POST a signed payload; on a time-out or a lost connection, send the same payload again."""
        body = json.dumps(payload, cls=_Encoder, separators=(",", ":")).encode()
        for attempt in range(1, self.attempts + 1):
            started = time.perf_counter()
            try:
                status, data = self._send_once(path, body)
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == self.attempts:
                    return Result(0, {"code": "NO_ANSWER"}, attempt, (time.perf_counter() - started) * 1000)
                self.retries += 1
                time.sleep(self.backoff * attempt)
                continue
            latency = (time.perf_counter() - started) * 1000
            if self.drop_rate and attempt < self.attempts and self.rng.random() < self.drop_rate:
                self.retries += 1  # pretend the answer was lost: the same transaction goes again
                continue
            return Result(status, data, attempt, latency)
        raise AssertionError("unreachable")

    def authenticate(self, token: str) -> Result:
        return self.call("authenticate", {"token": token})

    def balance(self, token: str) -> Result:
        return self.call("balance", {"token": token})

    def bet(self, token: str, *, transaction_id: str, round_id: str, amount: Decimal, currency: str) -> Result:
        return self.call("bet", {"token": token, "transaction_id": transaction_id, "round_id": round_id,
                                 "amount": amount, "currency": currency})

    def win(self, token: str, *, transaction_id: str, round_id: str, amount: Decimal, currency: str) -> Result:
        return self.call("win", {"token": token, "transaction_id": transaction_id, "round_id": round_id,
                                 "amount": amount, "currency": currency, "round_closed": True})

    def rollback(self, token: str, *, transaction_id: str, bet_transaction_id: str) -> Result:
        return self.call("rollback", {"token": token, "transaction_id": transaction_id,
                                      "bet_transaction_id": bet_transaction_id})

    def bet_win(self, token: str, *, bet_transaction_id: str, win_transaction_id: str, round_id: str,
                bet_amount: Decimal, win_amount: Decimal, currency: str) -> Result:
        return self.call("bet-win", {"token": token, "bet_transaction_id": bet_transaction_id,
                                     "win_transaction_id": win_transaction_id, "round_id": round_id,
                                     "bet_amount": bet_amount, "win_amount": win_amount, "currency": currency})
