"""Fast Track calling the platform's Operator API back after user events, off the request thread.

After a registration, login, profile, block or consent event Fast Track fetches the details
(userdetails, userblocks, userconsents). Here a few worker threads do it from a queue, each on its
own keep-alive connection, authenticating with the scheme the platform offers that Fast Track is
set up with (X-Api-Key, Basic or OAuth2 client credentials). Every answer is validated against the
published schema and stored on the player's timeline, red when it breaks the contract.

A callback already queued for the same (player, endpoint) is not queued twice: the one queued
will read the latest state anyway.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from simulators.fasttrack.contract import CALLBACK_SCHEMAS, schema_errors
from simulators.fasttrack.storage import Store

logger = logging.getLogger("simulators.fasttrack")

AUTH_SCHEMES = ("api-key", "basic", "oauth")
RETRY_DELAYS = (0.2, 0.5, 1.0)


class Credentials:
    """Client id and secret given directly, or read from a credentials file written by
    `manage.py operator_api_key ensure` (re-read when it changes, so it may appear after start-up)."""

    def __init__(self, client_id: str = "", secret: str = "", path: str | None = None):
        self._fixed = (client_id, secret) if client_id and secret else None
        self._path = Path(path) if path else None
        self._cached: tuple[float, tuple[str, str] | None] = (-1.0, None)

    def get(self) -> tuple[str, str] | None:
        if self._fixed or self._path is None:
            return self._fixed
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError:
            return None
        if mtime != self._cached[0]:
            pairs = dict(line.split("=", 1) for line in self._path.read_text().splitlines()
                         if "=" in line and not line.startswith("#"))
            pairs = {key.strip().removeprefix("FT_SIM_"): value.strip() for key, value in pairs.items()}
            found = (pairs.get("CLIENT_ID", ""), pairs.get("SECRET", ""))
            self._cached = (mtime, found if all(found) else None)
        return self._cached[1]


class TokenRefused(Exception):
    """The token endpoint said no: its answer stands for the call that needed the token."""

    def __init__(self, answer):
        super().__init__(f"token endpoint answered {answer.status}")
        self.answer = answer


@dataclass
class Answer:
    status: int
    body: bytes
    duration_ms: float
    cache_control: str = ""


class OperatorClient:
    """HTTP client of the Operator API: one keep-alive connection per thread, three auth schemes."""

    def __init__(self, *, base_url: str, prefix: str = "/fasttrack", auth_scheme: str = "api-key",
                 credentials: Credentials, timeout: float = 10.0):
        if auth_scheme not in AUTH_SCHEMES:
            raise ValueError(f"auth scheme must be one of {AUTH_SCHEMES}")
        parts = urlsplit(base_url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port
        self._prefix = (parts.path.rstrip("/") + "/" + prefix.strip("/")).rstrip("/")
        self.auth_scheme = auth_scheme
        self.credentials = credentials
        self._timeout = timeout
        self._local = threading.local()
        self._token_lock = threading.Lock()
        self._token: tuple[str, float] | None = None

    def url(self, tail: str) -> str:
        return f"{self._prefix}/{tail}"

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = self._local.connection = cls(self._host, self._port, timeout=self._timeout)
        return connection

    def _request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
        started = time.perf_counter()
        for attempt in (1, 2):  # a keep-alive connection the server closed is retried once on a new one
            connection = self._connection()
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                data = response.read()
                if response.will_close:
                    connection.close()
                    self._local.connection = None
                return Answer(response.status, data, round((time.perf_counter() - started) * 1000, 2),
                              response.getheader("Cache-Control", ""))
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                connection.close()
                self._local.connection = None
                if attempt == 2:
                    raise
            except Exception:
                connection.close()
                self._local.connection = None
                raise
        raise AssertionError("unreachable")

    def _fetch_token(self, client_id: str, secret: str) -> str:
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        form = urlencode({"grant_type": "client_credentials"}).encode()
        answer = self._request("POST", self.url("oauth/token"), form, {
            "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"})
        if answer.status != 200:
            raise TokenRefused(answer)
        body = json.loads(answer.body)
        # Refresh a little before expiry so a request never goes out with a token about to lapse.
        self._token = (body["access_token"], time.monotonic() + max(1, int(body["expires_in"]) - 30))
        return body["access_token"]

    def _auth_headers(self, *, fresh_token: bool = False) -> dict:
        credentials = self.credentials.get()
        if credentials is None:
            raise PermissionError("no Operator API credentials configured")
        client_id, secret = credentials
        if self.auth_scheme == "api-key":
            return {"X-Api-Key": f"{client_id}.{secret}"}
        if self.auth_scheme == "basic":
            return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
        with self._token_lock:
            token = self._token
            if fresh_token or token is None or token[1] <= time.monotonic():
                return {"Authorization": f"Bearer {self._fetch_token(client_id, secret)}"}
            return {"Authorization": f"Bearer {token[0]}"}

    def get(self, tail: str) -> Answer:
        try:
            answer = self._request("GET", self.url(tail), headers=self._auth_headers())
            if answer.status == 401 and self.auth_scheme == "oauth":  # token revoked or expired early: once more
                answer = self._request("GET", self.url(tail), headers=self._auth_headers(fresh_token=True))
        except TokenRefused as refused:
            return refused.answer
        return answer


class CallbackDispatcher:
    def __init__(self, *, client: OperatorClient | None, store: Store, workers: int = 4, max_queue: int = 10_000,
                 delay: float = 0.0):
        self.client = client
        self.store = store
        self.delay = delay
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._pending: set[tuple[str, str]] = set()
        self._pending_lock = threading.Lock()
        self._threads = [threading.Thread(target=self._work, name=f"callback-{n}", daemon=True)
                         for n in range(workers if client else 0)]
        for thread in self._threads:
            thread.start()

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def pending(self) -> int:
        with self._pending_lock:
            return len(self._pending)

    def schedule(self, *, user_id: str, endpoints, trigger_seq: int) -> None:
        if not self.enabled or not user_id:
            return
        for endpoint in endpoints:
            job = (user_id, endpoint)
            with self._pending_lock:
                if job in self._pending:
                    self.store.count("callbacks_coalesced")
                    continue
                self._pending.add(job)
            try:
                self._queue.put_nowait((user_id, endpoint, trigger_seq, time.monotonic()))
            except queue.Full:
                with self._pending_lock:
                    self._pending.discard(job)
                self.store.add_callback({"kind": "callback", "user_id": user_id, "endpoint": endpoint,
                                         "trigger_seq": trigger_seq, "ok": False, "valid": False,
                                         "errors": ["callback queue full: dropped"]})

    def _work(self) -> None:
        while True:
            user_id, endpoint, trigger_seq, queued_at = self._queue.get()
            wait = queued_at + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            with self._pending_lock:
                self._pending.discard((user_id, endpoint))
            try:
                self.store.add_callback(self.call(user_id=user_id, endpoint=endpoint, trigger_seq=trigger_seq))
            except Exception:  # a bug here must not kill the worker
                logger.exception("callback %s for user %s failed", endpoint, user_id)

    def call(self, *, user_id: str, endpoint: str, trigger_seq: int | None = None) -> dict:
        """Call one Operator API endpoint (with retries on transport errors and 5xx) and judge the answer."""
        entry = {"kind": "callback", "user_id": user_id, "endpoint": endpoint, "trigger_seq": trigger_seq,
                 "method": "GET", "path": self.client.url(f"{endpoint}/{user_id}"), "auth": self.client.auth_scheme}
        answer, error = None, None
        for attempt, delay in enumerate((*RETRY_DELAYS, None), start=1):
            entry["attempts"] = attempt
            try:
                answer, error = self.client.get(f"{endpoint}/{user_id}"), None
            except (OSError, http.client.HTTPException, PermissionError, ValueError) as exc:
                answer, error = None, f"{type(exc).__name__}: {exc}"
            retryable = answer is None or answer.status >= 500
            if not retryable or delay is None or isinstance(error, str) and "credentials" in error:
                break
            time.sleep(delay)
        if answer is None:
            return {**entry, "ok": False, "valid": False, "status": None, "errors": [error]}
        entry.update(status=answer.status, duration_ms=answer.duration_ms, cache_control=answer.cache_control)
        try:
            body = json.loads(answer.body)
        except ValueError:
            return {**entry, "ok": False, "valid": False, "body": answer.body[:500].decode("utf-8", "replace"),
                    "errors": ["answer is not JSON"]}
        if answer.status != 200:
            errors = [f"HTTP {answer.status}"] + [f"error body: {e}" for e in schema_errors("error_handling", body)]
            return {**entry, "ok": False, "valid": False, "body": body, "errors": errors}
        errors = schema_errors(CALLBACK_SCHEMAS[endpoint], body)
        if "no-store" not in answer.cache_control:
            errors.append("Cache-Control: the answer may be cached (no-store missing)")
        if endpoint == "userdetails" and isinstance(body, dict) and body.get("user_id") != user_id:
            errors.append(f"user_id: answered {body.get('user_id')!r} for {user_id!r}")
        return {**entry, "ok": True, "valid": not errors, "body": body, "errors": errors}


def credentials_from_env(client_id: str | None, secret: str | None, path: str | None) -> Credentials:
    return Credentials(
        client_id=client_id or os.environ.get("FT_SIM_CLIENT_ID", ""),
        secret=secret or os.environ.get("FT_SIM_SECRET", ""),
        path=path or os.environ.get("FT_SIM_CREDENTIALS_FILE") or None,
    )
