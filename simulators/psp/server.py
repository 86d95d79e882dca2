"""The simulated PSP: its state, its behaviour modes and its HTTP endpoints.

Endpoints
  GET  /pay?<signed query>     hosted payment page (buttons: pay, decline, cancel)
  POST /pay/<psp_reference>    the player's choice; sends the webhook, then redirects to return_url
  POST /api/payments           server-to-server deposit (signed): {"merchant_reference", "amount", "currency",
                               "outcome": "approve|decline|cancel|timeout", "duplicate": false}
  POST /api/payouts            payout of a withdrawal (signed): {"merchant_reference", "amount", "currency"}
  POST /api/chargebacks        {"merchant_reference"}: charge back an approved deposit (sends payment.chargeback)
  GET  /api/payments           every payment with its webhook deliveries (JSON, for tests)
  GET|POST /control            the behaviour mode: {"mode": "approve|decline|timeout|duplicate"}
  GET  /health, GET /          liveness; an HTML overview

Modes: approve (pay means approved, payouts complete), decline (every payment and payout fails),
timeout (no webhook at all; payout calls hang for --hang-seconds then answer 504), duplicate
(every webhook is sent twice, the second as a re-signed retry of the same event).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from simulators.psp import page
from simulators.psp.signing import query_is_genuine, request_is_genuine, signed_headers

logger = logging.getLogger("simulators.psp")
MODES = ("approve", "decline", "timeout", "duplicate")
OUTCOMES = ("approve", "decline", "cancel", "timeout")
AMOUNT = re.compile(r"[0-9]{1,20}(\.[0-9]{1,8})?")
REFERENCE = re.compile(r"[0-9]{1,20}")
RETRY_DELAYS = (0.5, 1, 2, 4, 8)


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Psp:
    def __init__(self, *, platform_url: str, webhook_path: str, secret: str, mode: str = "approve",
                 hang_seconds: float = 30.0, webhook_timeout: float = 10.0):
        if not secret:
            raise ValueError("the PSP simulator needs the shared secret (--secret or PSP_WEBHOOK_SECRET)")
        self.webhook_url = platform_url.rstrip("/") + webhook_path if platform_url else ""
        self.secret, self.mode, self.hang_seconds, self.webhook_timeout = secret, mode, hang_seconds, webhook_timeout
        self.lock = threading.Lock()
        self.payments: dict[str, dict] = {}
        self.by_merchant: dict[tuple[str, str], str] = {}

    # --- state ---------------------------------------------------------------------------------

    def payment_for(self, *, kind: str, merchant_reference: str, amount: str, currency: str,
                    return_url: str = "") -> dict:
        """The payment for (kind, merchant reference), created once: the PSP is idempotent by reference."""
        if not REFERENCE.fullmatch(str(merchant_reference)) or not AMOUNT.fullmatch(str(amount)) \
                or not re.fullmatch(r"[A-Z]{3}", str(currency)):
            raise Refused(400, "merchant_reference, amount (decimal digits) and currency are required")
        with self.lock:
            reference = self.by_merchant.get((kind, merchant_reference))
            if reference is not None:
                payment = self.payments[reference]
                if (payment["amount"], payment["currency"]) != (amount, currency):
                    raise Refused(409, "this merchant reference was used with another amount")
                return payment
            reference = f"{'dp' if kind == 'deposit' else 'po'}_{uuid.uuid4().hex[:16]}"
            payment = {"psp_reference": reference, "kind": kind, "merchant_reference": merchant_reference,
                       "amount": amount, "currency": currency, "return_url": return_url, "status": "pending",
                       "created_at": time.time(), "webhooks": []}
            self.payments[reference] = payment
            self.by_merchant[(kind, merchant_reference)] = reference
            return payment

    def snapshot(self) -> list[dict]:
        with self.lock:
            return json.loads(json.dumps(list(self.payments.values())))

    # --- behaviour -----------------------------------------------------------------------------

    def settle_deposit(self, payment: dict, *, outcome: str, duplicate: bool | None = None) -> list:
        """Decide a pending deposit and tell the platform; returns the webhook answers (HTTP statuses)."""
        if payment["status"] != "pending":
            return [w["last_status"] for w in payment["webhooks"]]
        if self.mode == "decline" and outcome == "approve":
            outcome = "decline"
        if self.mode == "timeout" or outcome == "timeout":
            payment["status"] = "timed out"  # the PSP never reports back
            return []
        payment["status"] = {"approve": "approved", "decline": "declined", "cancel": "cancelled"}[outcome]
        event_type = {"approve": "payment.approved", "decline": "payment.declined",
                      "cancel": "payment.cancelled"}[outcome]
        reason = {"decline": "Declined by the issuer (simulated)", "cancel": "Cancelled by the player"}.get(outcome, "")
        return self.send_webhook(payment, event_type, reason=reason, duplicate=duplicate)

    def chargeback(self, payment: dict) -> list:
        if payment["kind"] != "deposit" or payment["status"] != "approved":
            raise Refused(409, "only an approved deposit can be charged back")
        payment["status"] = "charged back"
        return self.send_webhook(payment, "payment.chargeback", reason="Chargeback (simulated)")

    def settle_payout(self, payment: dict) -> None:
        time.sleep(0.05)  # after the platform has its answer, as a real PSP would
        if payment["status"] != "pending":
            return
        if self.mode == "decline":
            payment["status"] = "failed"
            self.send_webhook(payment, "payout.failed", reason="Beneficiary account closed (simulated)")
        else:
            payment["status"] = "paid"
            self.send_webhook(payment, "payout.completed")

    # --- webhooks ------------------------------------------------------------------------------

    def send_webhook(self, payment: dict, event_type: str, *, reason: str = "", duplicate: bool | None = None) -> list:
        """Deliver one event: the first attempt now, retries (5xx, network) in the background.
        Returns the HTTP statuses of the attempts made now (0 when the platform could not be reached)."""
        record = {"event_id": str(uuid.uuid4()), "type": event_type, "attempts": 0, "last_status": None,
                  "answers": []}
        payment["webhooks"].append(record)
        fields = {"event_id": record["event_id"], "type": event_type,
                  "merchant_reference": payment["merchant_reference"], "psp_reference": payment["psp_reference"],
                  "amount": payment["amount"], "currency": payment["currency"], "reason": reason,
                  "occurred_at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}
        status = self._attempt(record, fields)
        answers = [status]
        if status == 0 or status >= 500:
            threading.Thread(target=self._retry, args=(record, fields), daemon=True).start()
        elif duplicate or (duplicate is None and self.mode == "duplicate"):
            answers.append(self._attempt(record, fields))  # the same event again, re-signed
        return answers

    def _attempt(self, record: dict, fields: dict) -> int:
        if not self.webhook_url:
            return 0
        record["attempts"] += 1
        body = json.dumps({**fields, "attempt": record["attempts"]}).encode()
        request = urllib.request.Request(self.webhook_url, data=body, method="POST",
                                         headers=signed_headers(self.secret, body))
        try:
            with urllib.request.urlopen(request, timeout=self.webhook_timeout) as response:
                status, answer = response.status, response.read(500)
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read(500)
        except (urllib.error.URLError, OSError) as error:
            status, answer = 0, str(error).encode()
        record["last_status"] = status
        record["answers"].append({"status": status, "body": answer.decode("utf-8", "replace")})
        logger.info("webhook %s %s -> %s", fields["type"], fields["merchant_reference"], status)
        return status

    def _retry(self, record: dict, fields: dict) -> None:
        for delay in RETRY_DELAYS:
            time.sleep(delay)
            status = self._attempt(record, fields)
            if 0 < status < 500:
                return


def _json(body: bytes) -> dict:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise Refused(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "the body must be a JSON object")
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for the benchmarks
    server_version = "SimulatedPSP/1.0"
    psp: Psp  # set by make_server

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        logger.debug("%s %s", self.address_string(), format % args)

    # --- plumbing ------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, data) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _send_html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _signed_json(self) -> dict:
        body = self._body()
        if not request_is_genuine(self.psp.secret, self.headers, body):
            raise Refused(401, "bad or missing signature")
        return _json(body)

    def _route(self, method: str) -> None:
        path = urlsplit(self.path).path
        try:
            handler = ROUTES.get((method, path))
            if handler is None and method == "POST" and path.startswith("/pay/"):
                handler = Handler.pay_choice
            if handler is None:
                raise Refused(404, "not found")
            handler(self)
        except Refused as refused:
            if path.startswith("/pay"):
                self._send_html(refused.status, page.message_page("Payment not possible", refused.message))
            else:
                self._send_json(refused.status, {"error": refused.message})

    def do_GET(self):  # noqa: N802
        self._route("GET")

    def do_POST(self):  # noqa: N802
        self._route("POST")

    # --- endpoints -----------------------------------------------------------------------------

    def health(self):
        self._send_json(200, {"status": "ok", "mode": self.psp.mode})

    def overview(self):
        self._send_html(200, page.overview_page(payments=self.psp.snapshot(), mode=self.psp.mode))

    def control(self):
        if self.command == "POST":
            mode = _json(self._body()).get("mode")
            if mode not in MODES:
                raise Refused(400, f"mode must be one of {', '.join(MODES)}")
            self.psp.mode = mode
        self._send_json(200, {"mode": self.psp.mode})

    def pay_page(self):
        query = urlsplit(self.path).query
        if not query_is_genuine(self.psp.secret, query):
            raise Refused(403, "This payment link is not valid.")
        params = {key: values[0] for key, values in parse_qs(query).items()}
        if not params.get("expires", "").isdigit() or int(params["expires"]) < time.time():
            raise Refused(410, "This payment link has expired.")
        payment = self.psp.payment_for(kind="deposit", merchant_reference=params.get("merchant_reference", ""),
                                       amount=params.get("amount", ""), currency=params.get("currency", ""),
                                       return_url=params.get("return_url", ""))
        self._send_html(200, page.hosted_page(payment=payment, mode=self.psp.mode))

    def pay_choice(self):
        reference = urlsplit(self.path).path.removeprefix("/pay/")
        payment = self.psp.payments.get(reference)
        if payment is None or payment["kind"] != "deposit":
            raise Refused(404, "Unknown payment.")
        action = parse_qs(self._body().decode()).get("action", [""])[0]
        outcome = {"pay": "approve", "decline": "decline", "cancel": "cancel"}.get(action)
        if outcome is None:
            raise Refused(400, "Choose pay, decline or cancel.")
        self.psp.settle_deposit(payment, outcome=outcome)
        if payment["return_url"]:
            self._send(303, b"", "text/plain", {"Location": payment["return_url"]})
        else:
            self._send_html(200, page.message_page("Done", f"The payment is {payment['status']}."))

    def create_payment(self):
        data = self._signed_json()
        outcome = data.get("outcome", "approve")
        if outcome not in OUTCOMES:
            raise Refused(400, f"outcome must be one of {', '.join(OUTCOMES)}")
        payment = self.psp.payment_for(kind="deposit", merchant_reference=str(data.get("merchant_reference", "")),
                                       amount=str(data.get("amount", "")), currency=str(data.get("currency", "")))
        answers = self.psp.settle_deposit(payment, outcome=outcome, duplicate=data.get("duplicate"))
        self._send_json(201, {"psp_reference": payment["psp_reference"], "status": payment["status"],
                              "webhook_answers": answers})

    def create_payout(self):
        data = self._signed_json()
        payment = self.psp.payment_for(kind="payout", merchant_reference=str(data.get("merchant_reference", "")),
                                       amount=str(data.get("amount", "")), currency=str(data.get("currency", "")))
        if self.psp.mode == "timeout":
            time.sleep(self.psp.hang_seconds)
            raise Refused(504, "gateway timeout (simulated)")
        if payment["status"] == "pending" and not payment.get("scheduled"):
            payment["scheduled"] = True
            threading.Thread(target=self.psp.settle_payout, args=(payment,), daemon=True).start()
        self._send_json(202, {"psp_reference": payment["psp_reference"], "status": payment["status"]})

    def create_chargeback(self):
        data = _json(self._body())
        reference = self.psp.by_merchant.get(("deposit", str(data.get("merchant_reference", ""))))
        if reference is None:
            raise Refused(404, "unknown deposit")
        answers = self.psp.chargeback(self.psp.payments[reference])
        self._send_json(201, {"psp_reference": reference, "status": "charged back", "webhook_answers": answers})

    def list_payments(self):
        self._send_json(200, {"mode": self.psp.mode, "payments": self.psp.snapshot()})


ROUTES = {
    ("GET", "/health"): Handler.health,
    ("GET", "/"): Handler.overview,
    ("GET", "/control"): Handler.control,
    ("POST", "/control"): Handler.control,
    ("GET", "/pay"): Handler.pay_page,
    ("POST", "/api/payments"): Handler.create_payment,
    ("GET", "/api/payments"): Handler.list_payments,
    ("POST", "/api/payouts"): Handler.create_payout,
    ("POST", "/api/chargebacks"): Handler.create_chargeback,
}


def make_server(psp: Psp, host: str = "127.0.0.1", port: int = 8300) -> ThreadingHTTPServer:
    handler = type("BoundHandler", (Handler,), {"psp": psp})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server

