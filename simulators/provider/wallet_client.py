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
import socket
import ssl
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


CHUNKED = -1


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
        self._socket: socket.socket | None = None
        self._reader = None

    def _connect(self) -> socket.socket:
        if self._socket is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.https:
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            self._socket, self._reader = sock, sock.makefile("rb")
        return self._socket

    def close(self) -> None:
        if self._socket is not None:
            self._reader.close()
            self._socket.close()
            self._socket = self._reader = None

    def _send_once(self, path: str, body: bytes) -> tuple[int, dict]:
        """One HTTP/1.1 exchange on the kept-alive connection.

        A small client of our own rather than http.client: under `make bench` this process plays 32
        players on the same two cores as the wallet, and http.client's header parsing alone cost it
        about a third of its time per call.
        """
        sock = self._connect()
        headers = signed_headers(self.vendor, self.secret, body)
        head = [f"POST {self.prefix}/{path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in headers.items())]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status, length, close = self._read_head()
        if length == CHUNKED:
            raw = self._read_chunked()
        else:
            raw = self._reader.read(length) if length is not None else self._reader.read()
        if close or length is None:
            self.close()
        try:
            data = json.loads(raw, parse_float=Decimal) if raw else {}
        except ValueError:
            data = {"error": raw[:200].decode(errors="replace"), "code": f"HTTP_{status}"}
        return status, data

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self._reader.readline(65537).split(b";")[0], 16):
            chunks.append(self._reader.read(size))
            self._reader.readline(65537)
        while self._reader.readline(65537) not in (b"\r\n", b"\n", b""):  # trailers
            pass
        return b"".join(chunks)

    def _read_head(self) -> tuple[int, int | None, bool]:
        """The status, the body's length (CHUNKED, or None: read to the end) and whether the server closes."""
        parts = self._reader.readline(65537).split(None, 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ConnectionError("no HTTP answer")
        length, close = None, False
        while (line := self._reader.readline(65537)) not in (b"\r\n", b"\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                length = CHUNKED
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        return int(parts[1]), length, close

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
