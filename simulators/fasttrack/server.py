"""The simulated Fast Track's HTTP server (standard library only: ThreadingHTTPServer, HTTP/1.1 keep-alive).

Real-time event endpoints (Fast Track's REST integration API) check the API key header, validate
the body against the published schema, drop duplicates by `X-Event-Id`, store the event and queue
the Operator API callbacks. A control endpoint makes them fail for a while (500s, time-outs, slow
answers) so that the platform's retries can be watched at work. Everything else is for people and
tests: a web page, JSON views of the timelines, stats.

    POST/PUT /v2/integration/..., /v1/integration/...   events (see contract.EVENT_ROUTES)
    GET  /                     players, stats, recent events      GET /players/{id}   one timeline
    GET  /api/events?type=&user_id=&kind=&limit=                  GET /api/players
    GET  /api/players/{id}/timeline    GET /api/stats    GET /health    POST /api/reset
    GET  /control              POST /control {"mode": "error"|"timeout"|"slow"|"ok", "seconds": 30,
                               "count": 3, "status": 503, "delay_ms": 1500, "hold_seconds": 10}
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from simulators.fasttrack import page
from simulators.fasttrack.callbacks import CallbackDispatcher
from simulators.fasttrack.contract import EVENT_PATHS, EVENT_ROUTES, event_rule_errors, schema_errors
from simulators.fasttrack.storage import Store

logger = logging.getLogger("simulators.fasttrack")

MAX_BODY = 1_000_000
MODES = ("ok", "error", "timeout", "slow")


class FailureMode:
    """How the event endpoints answer now: normally, or failing until a deadline or for N requests."""

    def __init__(self):
        self._changed = threading.Condition()
        self._set("ok", {})

    def _set(self, mode: str, options: dict) -> None:
        seconds = options.get("seconds")
        self.mode = mode
        self.until = time.monotonic() + float(seconds) if seconds else None
        self.remaining = int(options["count"]) if options.get("count") else None
        self.status = int(options.get("status") or 500)
        self.delay = float(options.get("delay_ms") or 1500) / 1000
        self.hold = float(options["hold_seconds"]) if options.get("hold_seconds") else None

    def set(self, options: dict) -> dict:
        mode = options.get("mode")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        status = int(options.get("status") or 500)
        if not 500 <= status <= 599 and status != 429:
            raise ValueError("status must be 5xx or 429")
        for name in ("seconds", "count", "delay_ms", "hold_seconds"):
            if options.get(name) is not None and float(options[name]) < 0:
                raise ValueError(f"{name} must not be negative")
        with self._changed:
            self._set(mode, options)
            self._changed.notify_all()
        return self.describe()

    def _expired(self) -> bool:
        return (self.until is not None and time.monotonic() >= self.until) or self.remaining == 0

    def take(self) -> tuple[str, FailureMode]:
        """The mode that applies to the event request arriving now (counting it against `count`)."""
        with self._changed:
            if self.mode != "ok" and self._expired():
                self._set("ok", {})
            if self.mode != "ok" and self.remaining is not None:
                self.remaining -= 1
            return self.mode, self

    def hold_for(self) -> float:
        """How long a 'timeout' request hangs: hold_seconds, else until the mode ends (at most 60 s)."""
        if self.hold is not None:
            return self.hold
        return min(60.0, max(0.0, self.until - time.monotonic())) if self.until else 60.0

    def wait_change(self, seconds: float) -> None:
        with self._changed:
            self._changed.wait(seconds)

    def describe(self) -> dict:
        with self._changed:
            if self.mode != "ok" and self._expired():
                self._set("ok", {})
            left = max(0.0, round(self.until - time.monotonic(), 1)) if self.until else None
            return {"mode": self.mode, "seconds_left": left, "requests_left": self.remaining,
                    "status": self.status, "delay_ms": int(self.delay * 1000), "hold_seconds": self.hold}


@dataclass
class Simulator:
    store: Store
    dispatcher: CallbackDispatcher
    api_key: str = ""
    api_key_header: str = "X-Api-Key"
    platform_url: str = ""
    failure: FailureMode = field(default_factory=FailureMode)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a sender reuses its connection for thousands of events
    server_version = "FastTrackSimulator/1.0"
    disable_nagle_algorithm = True
    sim: Simulator  # set on the subclass built by make_server()

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # one line per event would cost more than handling it; stats and timelines say it all

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # -- plumbing --------------------------------------------------------------------------------
    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks, size = [], 0
            while True:
                length = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length > MAX_BODY or length < 0:
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, data: bytes, content_type: str = "application/json", headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload, headers: dict | None = None):
        self._send(status, json.dumps(payload, separators=(",", ":")).encode(), headers=headers)

    def _html(self, status: int, text: str):
        self._send(status, text.encode(), "text/html; charset=utf-8")

    def _dispatch(self, method: str) -> None:
        try:
            path, _, query = self.path.partition("?")
            body = self._read_body()
            if body is None:
                self.close_connection = True
                return self._json(413, {"error": "body too large or of unreadable length", "code": 413})
            if path in EVENT_PATHS:
                return self._event(method, path, body)
            return self._site(method, path, parse_qs(query), body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            logger.exception("simulator error on %s %s", method, self.path.partition("?")[0])
            self.close_connection = True
            self._json(500, {"error": "simulator bug", "code": 500})

    # -- real-time events ------------------------------------------------------------------------
    def _authorized(self) -> bool:
        if not self.sim.api_key:
            return True
        given = self.headers.get(self.sim.api_key_header, "")
        return hmac.compare_digest(given.encode(), self.sim.api_key.encode())

    def _event(self, method: str, path: str, body: bytes) -> None:
        route = EVENT_ROUTES.get((method, path))
        if route is None:
            allowed = ", ".join(sorted(m for m, p in EVENT_ROUTES if p == path))
            return self._json(405, {"error": f"use {allowed} on {path}", "code": 405}, {"Allow": allowed})
        sim = self.sim
        if not self._authorized():
            sim.store.count("unauthorized")
            return self._json(401, {"error": f"missing or wrong {sim.api_key_header}", "code": 401})
        mode, failure = sim.failure.take()
        if mode == "error":
            sim.store.count("failed_by_mode")
            return self._json(failure.status, {"error": "simulated outage", "code": failure.status})
        if mode == "timeout":
            sim.store.count("timed_out_by_mode")
            failure.wait_change(failure.hold_for())
            self.close_connection = True  # hang up without an answer, as a dead upstream does
            return None
        if mode == "slow":
            sim.store.count("slowed_by_mode")
            time.sleep(failure.delay)
        event_id = self.headers.get("X-Event-Id") or None
        entry = {"kind": "event", "event_type": route.event_type, "method": method, "path": path,
                 "event_id": event_id}
        try:
            document = json.loads(body)
        except ValueError:
            sim.store.add_invalid({**entry, "user_id": "unknown", "valid": False, "errors": ["body is not JSON"],
                                   "body": body[:500].decode("utf-8", "replace")})
            return self._json(400, {"error": "body is not JSON", "code": 400})
        errors = schema_errors(route.schema, document) + event_rule_errors(document)
        user_id = document.get("user_id") if isinstance(document, dict) else None
        entry.update(user_id=str(user_id) if user_id not in (None, "") else "unknown", body=document,
                     valid=not errors, errors=errors)
        if errors:
            sim.store.add_invalid(entry)
            return self._json(400, {"error": f"{route.event_type} breaks the contract", "code": 400,
                                    "errors": errors})
        stored, duplicate = sim.store.add_event(entry, event_id)
        if duplicate:
            return self._json(200, {"status": "duplicate", "seq": stored["seq"]})
        sim.dispatcher.schedule(user_id=entry["user_id"], endpoints=route.callbacks, trigger_seq=stored["seq"])
        return self._json(200, {"status": "accepted", "seq": stored["seq"]})

    # -- pages, JSON views, control ----------------------------------------------------------------
    def _site(self, method: str, path: str, query: dict, body: bytes) -> None:
        sim = self.sim
        first = {name: values[0] for name, values in query.items()}
        parts = [unquote(part) for part in path.strip("/").split("/")] if path.strip("/") else []
        if method == "GET":
            if not parts:
                return self._html(200, page.index(sim))
            if parts == ["health"]:
                return self._json(200, {"status": "ok"})
            if len(parts) == 2 and parts[0] == "players":
                timeline = sim.store.timeline(parts[1])
                return self._html(200 if timeline is not None else 404, page.timeline(sim, parts[1], timeline))
            if parts == ["api", "stats"]:
                return self._json(200, self._stats())
            if parts == ["api", "players"]:
                return self._json(200, {"players": sim.store.players()})
            if len(parts) == 4 and parts[:2] == ["api", "players"] and parts[3] == "timeline":
                timeline = sim.store.timeline(parts[2])
                if timeline is None:
                    return self._json(404, {"error": "no such player", "code": 404})
                return self._json(200, {"user_id": parts[2], "timeline": timeline})
            if parts == ["api", "events"]:
                try:
                    limit = int(first["limit"]) if first.get("limit") else None
                except ValueError:
                    return self._json(400, {"error": "limit must be an integer", "code": 400})
                events = sim.store.events(event_type=first.get("type"), user_id=first.get("user_id"),
                                          kind=first.get("kind", "event"), limit=limit)
                return self._json(200, {"count": len(events), "events": events})
            if parts == ["control"]:
                return self._json(200, sim.failure.describe())
        if method == "POST" and parts == ["control"]:
            try:
                options = json.loads(body or b"{}")
                if not isinstance(options, dict):
                    raise ValueError("send a JSON object")
                return self._json(200, sim.failure.set(options))
            except (ValueError, TypeError) as error:
                return self._json(400, {"error": str(error), "code": 400})
        if method == "POST" and parts == ["api", "reset"]:
            sim.store.reset()
            return self._json(200, {"status": "reset"})
        return self._json(404, {"error": "not found", "code": 404})

    def _stats(self) -> dict:
        sim = self.sim
        return {**sim.store.stats(), "mode": sim.failure.describe(), "callbacks_enabled": sim.dispatcher.enabled,
                "callbacks_pending": sim.dispatcher.pending(), "api_key_check": bool(sim.api_key)}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of new connections from a benchmark must not be refused


def make_server(sim: Simulator, host: str = "127.0.0.1", port: int = 8100) -> Server:
    handler = type("BoundHandler", (Handler,), {"sim": sim})
    return Server((host, port), handler)
