"""The provider simulator's HTTP server (standard library: ThreadingHTTPServer).

    GET  /game?token=&game=&currency=&lang=&lobby=   the slot page (the platform's launch URL points here)
    POST /api/session {"token"}                       authenticate with the wallet: balance, may it play
    POST /api/spin {"token", "bet"}                   one round: bet, spin, win (or bet-win), with retries
    GET  /api/stats   GET /health   GET /             counters and a status page

The page never sees the wallet: it talks to this server, which signs the wallet calls server-to-server.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from simulators.provider import page
from simulators.provider.slot import Slot, play_round
from simulators.provider.wallet_client import WalletClient

logger = logging.getLogger("simulators.provider")
MAX_BODY = 10_000


@dataclass
class Provider:
    wallet_url: str
    vendor: str
    secret: str
    rtp: float = 96.0
    seed: int = 0
    combined: bool = False
    drop_rate: float = 0.0
    timeout: float = 5.0
    stats: Counter = field(default_factory=Counter)
    _slots: dict = field(default_factory=dict)
    _currencies: dict = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)

    def client(self) -> WalletClient:
        client = getattr(self._local, "client", None)
        if client is None:
            import random

            client = self._local.client = WalletClient(self.wallet_url, vendor=self.vendor, secret=self.secret,
                                                       timeout=self.timeout, drop_rate=self.drop_rate,
                                                       rng=random.Random())
        return client

    def slot(self, token: str) -> Slot:
        """A seeded RNG per game session: the same seed and token replay the same outcomes."""
        with self._lock:
            slot = self._slots.get(token)
            if slot is None:
                seed = int(hashlib.sha256(f"{self.seed}:{token}".encode()).hexdigest()[:16], 16)
                slot = self._slots[token] = Slot(self.rtp, seed=seed)
            return slot

    def session(self, token: str) -> dict:
        result = self.client().authenticate(token)
        if result.ok:
            with self._lock:
                self._currencies[token] = result.body["currency"]
        self.stats[f"authenticate.{result.code}"] += 1
        return {"ok": result.ok, "wallet": result.body}

    def spin(self, token: str, bet: Decimal) -> dict:
        currency = self._currencies.get(token)
        if currency is None:
            opened = self.session(token)
            if not opened["ok"]:
                return opened
            currency = self._currencies[token]
        client = self.client()
        retries_before = client.retries
        outcome = play_round(client, self.slot(token), token=token, bet=bet, currency=currency,
                             combined=self.combined)
        final = outcome.final
        self.stats["rounds"] += 1
        self.stats[f"round.{final.code}"] += 1
        retries = client.retries - retries_before
        self.stats["retries"] += retries
        calls = 1 + (outcome.win is not None and not self.combined) + (outcome.rollback is not None)
        ok = outcome.spin is not None and final.ok
        won = Decimal(final.body.get("win_amount") or final.body.get("amount") or 0) if ok and outcome.win else 0
        return {"ok": ok, "round_id": outcome.round_id, "reels": outcome.spin.reels if ok else None,
                "win": f"{won:f}" if ok else "0", "wallet": final.body, "calls": calls, "retries": retries}


def make_handler(provider: Provider):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ProviderSimulator/1.0"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            # The query string carries the session token: log the path only.
            logger.info("%s %s", self.command, urlsplit(self.path).path)

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: dict) -> None:
            self._send(status, json.dumps(data, default=str).encode(), "application/json")

        def _body(self) -> dict | None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return None
            try:
                data = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return None
            return data if isinstance(data, dict) else None

        def do_GET(self):  # noqa: N802 - the base class's name
            url = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            if url.path == "/health":
                return self._json(200, {"status": "ok"})
            if url.path == "/api/stats":
                return self._json(200, dict(provider.stats))
            if url.path == "/game":
                token = query.get("token", "")
                if not token:
                    return self._send(400, b"token missing", "text/plain")
                game = query.get("game", "slot")
                html = page.game_page(title=game.replace("-", " ").title(), rtp=provider.rtp, token=token,
                                      game=game, lobby=query.get("lobby", "/"))
                return self._send(200, html.encode(), "text/html; charset=utf-8")
            if url.path == "/":
                html = (page.STATUS_PAGE.replace("__VENDOR__", provider.vendor)
                        .replace("__WALLET__", provider.wallet_url).replace("__RTP__", f"{provider.rtp:g}")
                        .replace("__STATS__", json.dumps(dict(provider.stats), indent=2)))
                return self._send(200, html.encode(), "text/html; charset=utf-8")
            return self._json(404, {"error": "not found"})

        def do_POST(self):  # noqa: N802
            path = urlsplit(self.path).path
            data = self._body()
            if data is None or not isinstance(data.get("token"), str):
                return self._json(400, {"ok": False, "wallet": {"error": "Send JSON with a token."}})
            if path == "/api/session":
                return self._json(200, provider.session(data["token"]))
            if path == "/api/spin":
                try:
                    bet = Decimal(str(data.get("bet", "1.00")))
                except InvalidOperation:
                    bet = Decimal(0)
                if not bet.is_finite() or bet <= 0:
                    return self._json(400, {"ok": False, "wallet": {"error": "Choose a bet."}})
                return self._json(200, provider.spin(data["token"], bet))
            return self._json(404, {"error": "not found"})

    return Handler


def make_server(provider: Provider, host: str, port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(provider))
    server.daemon_threads = True
    return server
