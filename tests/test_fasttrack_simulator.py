"""The Fast Track simulator as a real process: events in, validation, de-duplication, failure modes,
and its callbacks to a live platform's Operator API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
import requests

from crm.delivery import delivery_batch
from crm.fasttrack.events import build_payload
from crm.models import DeliveryStatus, EventType, OperatorApiKey, OutboxEvent
from crm.operator_api.services import operator_api_key_create, operator_api_key_revoke
from players.services.accounts import player_register
from players.services.blocks import player_block
from players.tests.factories import PASSWORD, PlayerFactory

BASE_DIR = Path(__file__).resolve().parents[1]
API_KEY = "sim-test-key"
NOW = "2026-11-21T13:15:30.123Z"


class SimulatorProcess:
    def __init__(self, *args: str, env: dict | None = None):
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "simulators.fasttrack", "--port", "0", *args], cwd=BASE_DIR,
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, env={**os.environ, **(env or {})},
        )
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            self.stop()
            self._stderr.seek(0)
            raise RuntimeError(f"simulator did not start: {line!r} {self._stderr.read()[-2000:]!r}")
        self.url = line.split()[-1]
        self.http = requests.Session()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process.stdout.close()
        self._stderr.close()

    def post(self, path: str, body, *, event_id: str | None = None, api_key: str | None = API_KEY, method="POST",
             timeout: float = 5, raw: bytes | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json", "X-Event-Id": event_id or uuid.uuid4().hex}
        if api_key is not None:
            headers["X-Api-Key"] = api_key
        data = raw if raw is not None else json.dumps(body)
        return self.http.request(method, self.url + path, data=data, headers=headers, timeout=timeout)

    def get(self, path: str, **params) -> requests.Response:
        return self.http.get(self.url + path, params=params, timeout=5)

    def control(self, **options) -> requests.Response:
        return self.http.post(self.url + "/control", json=options, timeout=5)

    def timeline(self, user_id: str) -> list[dict]:
        response = self.get(f"/api/players/{user_id}/timeline")
        return response.json()["timeline"] if response.status_code == 200 else []

    def wait_for_callbacks(self, user_id: str, count: int, timeout: float = 15) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            callbacks = [entry for entry in self.timeline(user_id) if entry["kind"] == "callback"]
            if len(callbacks) >= count:
                return callbacks
            time.sleep(0.05)
        raise AssertionError(f"{count} callbacks expected for {user_id}, timeline: {self.timeline(user_id)}")


@pytest.fixture(scope="module")
def simulator_process():
    sim = SimulatorProcess("--api-key", API_KEY)
    yield sim
    sim.stop()


@pytest.fixture
def sim(simulator_process):
    simulator_process.control(mode="ok")
    simulator_process.http.post(simulator_process.url + "/api/reset", timeout=5)
    return simulator_process


def event(user_id="42", **extra) -> dict:
    return {"user_id": user_id, "timestamp": NOW, "origin": "test-casino.example", **extra}


SAMPLES = {
    ("POST", "/v2/integration/user"): event(ip_address="203.0.113.5", user_agent="Mozilla/5.0"),
    ("PUT", "/v2/integration/user"): event(),
    ("POST", "/v2/integration/login"): event(ip_address="203.0.113.5", is_impersonated=False),
    ("PUT", "/v2/integration/user/blocks"): event(),
    ("PUT", "/v2/integration/user/consents"): event(),
    ("POST", "/v1/integration/payment"): event(amount=10.5, currency="EUR", payment_id="p-1", status="Approved",
                                               type="Credit", vendor_id="psp", vendor_name="PSP", exchange_rate=1),
    ("POST", "/v1/integration/casino"): event(
        activity_id="a-1", amount=2.5, currency="EUR", exchange_rate=1, game_id="starburst", game_name="Starburst",
        game_type="Slots", is_round_end=False, round_id="r-1", status="Approved", type="Bet", vendor_id="netent",
        vendor_name="NetEnt", balance_before=100, balance_after=97.5, wager_amount=2.5),
    ("POST", "/v1/integration/bonus"): event(amount=50, bonus_id="welcome_50", currency="EUR", exchange_rate=1,
                                             product="Casino", status="Created", type="WelcomeBonus",
                                             user_bonus_id="ub-1"),
    ("POST", "/v1/integration/user/balances"): event(balances=[
        {"amount": 97.5, "currency": "EUR", "key": "real_money", "exchange_rate": 1},
        {"amount": 0, "currency": "EUR", "key": "bonus_money", "exchange_rate": 1}]),
    ("POST", "/v1/integration/custom"): event(notification_type="vip_call", data={"agent": "7"}),
}


# -- receiving events ------------------------------------------------------------------------------------

def test_a_valid_event_is_accepted_stored_and_put_on_the_players_timeline(sim):
    assert sim.get("/api/players/42/timeline").status_code == 404

    response = sim.post("/v2/integration/user", event(), event_id="evt-1")

    assert response.status_code == 200
    assert response.json()["status"] == "accepted"
    [entry] = sim.timeline("42")
    assert (entry["kind"], entry["event_type"], entry["event_id"], entry["valid"], entry["errors"]) == (
        "event", "USER_CREATE_V2", "evt-1", True, [])
    assert entry["body"] == event()
    assert sim.get("/api/events", type="USER_CREATE_V2").json()["count"] == 1


@pytest.mark.parametrize(("method", "path"), list(SAMPLES))
def test_every_real_time_event_path_takes_a_valid_body(sim, method, path):
    response = sim.post(path, SAMPLES[(method, path)], method=method)

    assert response.status_code == 200, response.text
    [stored] = sim.get("/api/events").json()["events"]
    assert (stored["method"], stored["path"], stored["valid"]) == (method, path, True)


def test_an_event_that_breaks_the_contract_is_refused_with_its_errors_and_shown_in_red(sim):
    body = event(user_id="player-7", amount="10.50", currency="EUR", payment_id="p-1", status="Done", type="Credit",
                 vendor_id="psp", timestamp="2026-11-21 13:15")

    response = sim.post("/v1/integration/payment", body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(error.startswith("amount:") for error in errors)
    assert any(error.startswith("status:") for error in errors)
    assert any(error.startswith("timestamp:") for error in errors)
    assert any("digits" in error for error in errors)
    [entry] = sim.timeline("player-7")
    assert entry["valid"] is False and entry["errors"] == errors
    page = sim.get("/players/player-7").text
    assert "class=bad" in page and "is not of type" in page
    stats = sim.get("/api/stats").json()
    assert (stats["invalid"], stats.get("stored", 0)) == (1, 0)


def test_a_body_that_is_not_json_is_refused_and_recorded(sim):
    response = sim.post("/v2/integration/login", None, raw=b"{not json")

    assert response.status_code == 400
    [entry] = sim.timeline("unknown")
    assert entry["errors"] == ["body is not JSON"]


def test_an_event_sent_twice_with_the_same_event_id_is_stored_once(sim):
    first = sim.post("/v2/integration/login", event(), event_id="same-id")
    again = sim.post("/v2/integration/login", event(), event_id="same-id")
    other = sim.post("/v2/integration/login", event(), event_id="other-id")

    assert [first.json()["status"], again.json()["status"], other.json()["status"]] == [
        "accepted", "duplicate", "accepted"]
    assert again.status_code == 200
    assert [entry["event_id"] for entry in sim.timeline("42")] == ["same-id", "other-id"]
    assert sim.get("/api/stats").json()["duplicates"] == 1


@pytest.mark.parametrize("api_key", [None, "wrong-key"])
def test_an_event_without_the_right_api_key_is_refused_and_not_stored(sim, api_key):
    response = sim.post("/v2/integration/user", event(), api_key=api_key)

    assert response.status_code == 401
    assert sim.get("/api/players/42/timeline").status_code == 404
    assert sim.get("/api/stats").json()["unauthorized"] == 1


def test_a_wrong_method_or_an_unknown_path_is_refused(sim):
    wrong_method = sim.post("/v2/integration/login", event(), method="PUT")
    unknown = sim.post("/v9/integration/nothing", event())

    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert unknown.status_code == 404
    assert sim.get("/api/events").json()["count"] == 0


def test_concurrent_senders_on_keep_alive_connections_lose_nothing_and_store_nothing_twice(sim):
    per_sender, senders = 250, 4
    body = SAMPLES[("POST", "/v1/integration/casino")]

    def send(n: int) -> None:
        session = requests.Session()
        for i in range(per_sender):
            headers = {"X-Api-Key": API_KEY, "X-Event-Id": f"{n}-{i % 200}", "Content-Type": "application/json"}
            assert session.post(sim.url + "/v1/integration/casino", data=json.dumps(body), headers=headers,
                                timeout=5).status_code == 200

    started = time.perf_counter()
    threads = [threading.Thread(target=send, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started

    stats = sim.get("/api/stats").json()
    assert (stats["received"], stats["stored"], stats["duplicates"]) == (1000, 800, 200)
    print(f"simulator took 1000 events in {elapsed:.2f} s ({1000 / elapsed:.0f}/s) on 4 keep-alive connections")


# -- failure modes ----------------------------------------------------------------------------------------

def test_error_mode_answers_500_for_the_next_requests_then_recovers(sim):
    assert sim.control(mode="error", count=2).json()["mode"] == "error"

    statuses = [sim.post("/v2/integration/login", event()).status_code for _ in range(3)]

    assert statuses == [500, 500, 200]
    assert len(sim.timeline("42")) == 1
    assert sim.get("/control").json()["mode"] == "ok"
    assert sim.get("/api/stats").json()["failed_by_mode"] == 2


def test_error_mode_for_some_seconds_with_a_chosen_status(sim):
    sim.control(mode="error", seconds=0.5, status=503)

    during = sim.post("/v2/integration/login", event())
    time.sleep(0.6)
    after = sim.post("/v2/integration/login", event())

    assert (during.status_code, after.status_code) == (503, 200)


def test_slow_mode_answers_late_but_answers(sim):
    sim.control(mode="slow", delay_ms=300, count=1)

    started = time.perf_counter()
    response = sim.post("/v2/integration/login", event())

    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.3
    assert len(sim.timeline("42")) == 1


def test_timeout_mode_hangs_up_without_an_answer_and_stores_nothing(sim):
    sim.control(mode="timeout", hold_seconds=1, count=1)

    with pytest.raises(requests.exceptions.RequestException):
        sim.post("/v2/integration/login", event(), timeout=0.3)
    time.sleep(1.1)

    assert sim.get("/api/players/42/timeline").status_code == 404
    assert sim.post("/v2/integration/login", event()).status_code == 200


def test_ok_mode_ends_a_failure_at_once_and_bad_control_is_refused(sim):
    sim.control(mode="error", seconds=60)
    assert sim.post("/v2/integration/login", event()).status_code == 500

    assert sim.control(mode="ok").json()["mode"] == "ok"
    assert sim.post("/v2/integration/login", event()).status_code == 200
    for bad in ({"mode": "explode"}, {"mode": "error", "status": 200}, {"mode": "slow", "seconds": -1}):
        assert sim.control(**bad).status_code == 400


def test_the_web_page_lists_players_and_their_timelines(sim):
    sim.post("/v2/integration/user", event(user_id="77"))

    index = sim.get("/")
    timeline = sim.get("/players/77")

    assert index.status_code == 200 and "text/html" in index.headers["Content-Type"]
    assert "/players/77" in index.text
    assert timeline.status_code == 200 and "USER_CREATE_V2" in timeline.text
    assert sim.get("/players/nobody").status_code == 404


def test_the_page_escapes_what_the_events_carry(sim):
    sim.post("/v1/integration/custom", event(notification_type="<script>alert(1)</script>", data={}))

    page = sim.get("/players/42").text

    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page


# -- callbacks to a live platform ---------------------------------------------------------------------------

@pytest.fixture
def platform_sim(live_server, request):
    """A simulator calling the live platform back, with the given auth scheme and credentials."""
    started = []

    def start(scheme: str, issued, *, via_file: bool = False) -> SimulatorProcess:
        args = ["--platform-url", live_server.url, "--auth-scheme", scheme, "--api-key", API_KEY]
        env = {}
        if via_file:
            path = Path(tempfile.mkdtemp()) / "creds.env"
            path.write_text(f"CLIENT_ID={issued.client_id}\nSECRET={issued.secret}\n")
            args += ["--credentials-file", str(path)]
        else:
            env = {"FT_SIM_CLIENT_ID": issued.client_id, "FT_SIM_SECRET": issued.secret}
        started.append(SimulatorProcess(*args, env=env))
        return started[-1]

    yield start
    for sim in started:
        sim.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("scheme", "via_file"), [("api-key", False), ("basic", True), ("oauth", False)])
def test_after_a_registration_fasttrack_fetches_details_blocks_and_consents_from_the_platform(
        platform_sim, brand, scheme, via_file):
    issued = operator_api_key_create(name="Fast Track simulator")
    player = PlayerFactory(brand=brand, consent_email=True)
    sim = platform_sim(scheme, issued, via_file=via_file)
    body = build_payload(EventType.USER_CREATE, player=player, at=player.registered_at, data={"ip_address": "1.2.3.4"})

    assert sim.post("/v2/integration/user", body).status_code == 200
    callbacks = {entry["endpoint"]: entry for entry in sim.wait_for_callbacks(str(player.pk), 3)}

    assert set(callbacks) == {"userdetails", "userblocks", "userconsents"}
    for entry in callbacks.values():
        assert (entry["ok"], entry["valid"], entry["status"], entry["errors"], entry["auth"]) == (
            True, True, 200, [], scheme)
        assert "no-store" in entry["cache_control"]
    assert callbacks["userdetails"]["body"]["username"] == player.username
    assert callbacks["userdetails"]["path"] == f"/fasttrack/userdetails/{player.pk}"
    assert {c["type"]: c["opted_in"] for c in callbacks["userconsents"]["body"]["consents"]}["email"] is True
    assert OperatorApiKey.objects.get(pk=issued.key.pk).last_used_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_block_event_makes_fasttrack_read_the_new_block_and_a_revoked_key_shows_red(platform_sim, brand,
                                                                                   compliance):
    issued = operator_api_key_create(name="Fast Track simulator")
    player = PlayerFactory(brand=brand)
    sim = platform_sim("oauth", issued)
    player_block(player=player, reason="Chargeback", actor_user=compliance)

    blocks_event = build_payload(EventType.USER_BLOCK, player=player, at=player.registered_at)
    assert sim.post("/v2/integration/user/blocks", blocks_event, method="PUT").status_code == 200
    [blocks] = sim.wait_for_callbacks(str(player.pk), 1)
    operator_api_key_revoke(client_id=issued.client_id)
    login_event = build_payload(EventType.LOGIN, player=player, at=player.registered_at)
    assert sim.post("/v2/integration/login", login_event).status_code == 200
    refused = sim.wait_for_callbacks(str(player.pk), 2)[-1]

    assert blocks["valid"] is True
    assert blocks["body"]["blocks"][0] == {"type": "Blocked", "active": True, "note": "Chargeback"}
    assert (refused["endpoint"], refused["ok"], refused["valid"]) == ("userdetails", False, False)
    assert refused["status"] == 401 and "HTTP 401" in refused["errors"]
    assert "class=bad" in sim.get(f"/players/{player.pk}").text


class BrokenPlatform(BaseHTTPRequestHandler):
    """A platform whose Operator API breaks the contract: nulls, a wrong type, no Cache-Control."""

    def do_GET(self):
        data = json.dumps({"user_id": "5", "username": None, "is_blocked": "no"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_an_operator_api_answer_that_breaks_the_contract_is_recorded_with_its_errors():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BrokenPlatform)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sim = SimulatorProcess("--platform-url", f"http://127.0.0.1:{server.server_port}", "--auth-scheme", "basic",
                           env={"FT_SIM_CLIENT_ID": "op_x", "FT_SIM_SECRET": "s", "FT_SIM_API_KEY": ""})
    try:
        sim.post("/v2/integration/login", event(user_id="5"), api_key=None)
        [callback] = sim.wait_for_callbacks("5", 1)
    finally:
        sim.stop()
        server.shutdown()

    assert (callback["ok"], callback["valid"]) == (True, False)
    messages = " | ".join(callback["errors"])
    assert "username: None is not of type 'string'" in messages
    assert "is_blocked: 'no' is not of type 'boolean'" in messages
    assert "'registration_date' is a required property" in messages
    assert "no-store missing" in messages


@pytest.mark.django_db(transaction=True)
def test_the_platform_delivers_a_registration_through_an_outage_and_fasttrack_then_calls_back(
        platform_sim, settings, brand):
    """The whole loop: registration -> outbox -> delivery (refused once by the simulated outage, retried)
    -> the simulator -> its callbacks to the live Operator API."""
    issued = operator_api_key_create(name="Fast Track simulator")
    sim = platform_sim("oauth", issued)
    settings.FASTTRACK_BASE_URL = sim.url
    settings.FASTTRACK_API_KEY, settings.FASTTRACK_API_KEY_HEADER = API_KEY, "X-Api-Key"
    settings.CRM_DELIVERY_QUEUE = f"ft-sim-test-{uuid.uuid4().hex[:10]}"  # kicks go nowhere shared
    sim.control(mode="error", count=1)
    player = player_register(username="loop1", email="loop1@example.com", password=PASSWORD, brand=brand,
                             birth_date=date(1990, 1, 1), country="MT", currency="EUR")
    try:
        first = delivery_batch()
        event = OutboxEvent.objects.get(player_id=player.pk)
        assert (first.failed, event.status, event.attempts, event.last_status_code) == (
            1, DeliveryStatus.PENDING, 1, 500)
        assert sim.get(f"/api/players/{player.pk}/timeline").status_code == 404

        time.sleep(1.1)  # the first retry is due a second after the failure
        second = delivery_batch()
        event.refresh_from_db()
        callbacks = sim.wait_for_callbacks(str(player.pk), 3)
    finally:
        redis.Redis.from_url(settings.REDIS_URL).delete(settings.CRM_DELIVERY_QUEUE)

    assert (second.delivered, event.status, event.attempts) == (1, DeliveryStatus.DELIVERED, 2)
    [received] = sim.get("/api/events", user_id=str(player.pk)).json()["events"]
    assert (received["event_type"], received["event_id"], received["valid"]) == (
        "USER_CREATE_V2", str(event.event_id), True)
    assert sorted(entry["endpoint"] for entry in callbacks) == ["userblocks", "userconsents", "userdetails"]
    assert all(entry["valid"] for entry in callbacks)
    assert sim.get("/api/stats").json()["failed_by_mode"] == 1


def test_the_platform_never_imports_the_simulators():
    apps = ("igaming", "audit", "players", "wallet", "bonuses", "games", "crm")
    imports = re.compile(r"^\s*(from|import)\s+simulators\b", re.MULTILINE)
    offenders = [str(path.relative_to(BASE_DIR)) for app in apps for path in (BASE_DIR / app).rglob("*.py")
                 if "tests" not in path.parts and imports.search(path.read_text())]

    assert offenders == []
