"""The wallet server (games/seamless/server.py), a real process on a free port, against the test database.

Each test starts its own server: the server caches vendors for 30 s, and a transactional test's flush
gives the next test's vendor a new id.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from benchmarks.common import free_port, wait_for_health
from crm.models import OutboxEvent
from games.models import GameTransaction, RequestNonce, TransactionKind
from games.seamless.server import fast_path_connections
from games.seamless.signing import signed_headers
from games.tests.factories import VENDOR_CODE, VENDOR_SECRET, signed_post
from wallet.models import Account, AccountKind, Entry
from wallet.services.ledger import house_account, house_shard

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    params = connection.get_connection_params()
    user, password = quote(params.get("user") or ""), quote(params.get("password") or "")
    host = params.get("host") or ""
    if host.startswith("/"):
        return f"postgres://{user}@/{params['dbname']}?host={host}"
    return f"postgres://{user}:{password}@{host}:{params.get('port') or 5432}/{params['dbname']}"


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def post(self, operation: str, payload: dict | bytes, *, headers: dict | None = None, path: str = ""):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = headers or signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
        self.connection.request("POST", path or f"/wallet-api/v1/{operation}", body=body, headers=headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())

    def get(self, path: str):
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())


def _server_start(tmp_path, queue: str, **environment) -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "0",
           "GAME_PROVIDER_SECRETS": json.dumps({VENDOR_CODE: VENDOR_SECRET}), "CRM_DELIVERY_QUEUE": queue,
           "WALLET_SERVER_DB_CONNECTIONS": "2", "WALLET_SERVER_THREADS": "2", "LOG_LEVEL": "INFO", **environment}
    log = tmp_path / f"wallet-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "igaming.walletserver", "--bind", f"127.0.0.1:{port}"],
                                   cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    return Server(process, port, log)


def _server_stop(server: Server, queue: str) -> None:
    from igaming.redis_client import redis_client

    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=30)
    redis_client().delete(queue)


@pytest.fixture
def wallet_server(transactional_db, tmp_path):
    queue = f"test-kicks-{uuid.uuid4().hex}"
    server = _server_start(tmp_path, queue)
    try:
        wait_for_health(server.port, server.process, str(server.log))
        yield server
    finally:
        _server_stop(server, queue)


@pytest.fixture
def token(session_token, funded):
    """The session token of a player with 10.00 real and 5.00 bonus money, whose game-settlement shard exists
    (so that the fast statement can take a bet: without it, the full path creates it)."""
    house_account(AccountKind.GAME_SETTLEMENT, "EUR", shard=house_shard(funded))
    return session_token[1]


def bet(token, tx="b1", amount="2.00", round_id="r1"):
    return {"token": token, "transaction_id": tx, "round_id": round_id, "amount": amount, "currency": "EUR"}


def win(token, tx="w1", amount="3.00", round_id="r1"):
    return {"token": token, "transaction_id": tx, "round_id": round_id, "amount": amount, "currency": "EUR",
            "round_closed": True}


def fast_statements_run() -> list[str]:
    """The last statement of each of the wallet server's own database connections."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity "
                       "WHERE application_name = 'igaming-wallet-server' AND datname = current_database()")
        return [query for (query,) in cursor.fetchall()]


@pytest.mark.django_db(transaction=False)
def test_the_fast_path_keeps_twice_the_machines_cores_in_flight_unless_configured(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert fast_path_connections(None) == 4
    assert fast_path_connections(6) == 6

    monkeypatch.setattr("os.cpu_count", lambda: 16)
    assert fast_path_connections(None) == 8
    assert fast_path_connections(32) == 32

    monkeypatch.setattr("os.cpu_count", lambda: None)  # the count cannot be told
    assert fast_path_connections(None) == 2


def test_a_bet_and_its_win_are_booked_by_the_fast_statement_on_the_servers_own_connection(
        wallet_server, token, funded):
    placed = wallet_server.post("bet", bet(token))
    statements_after_bet = fast_statements_run()
    paid = wallet_server.post("win", win(token))

    assert placed == (200, {
        "status": "OK", "transaction_id": "b1", "round_id": "r1", "player_id": str(funded.pk), "amount": "2.00",
        "real_amount": "2.00", "bonus_amount": "0.00", "currency": "EUR", "balance": "13.00",
        "real_balance": "8.00", "bonus_balance": "5.00"})
    assert any(query.startswith("SELECT games_bet_fast_signed($1") for query in statements_after_bet)
    assert paid[0] == 200 and paid[1]["balance"] == "16.00" and paid[1]["round_closed"] is True
    assert any(query.startswith("SELECT games_win_fast_signed($1") for query in fast_statements_run())
    real = Account.objects.get(player=funded, kind=AccountKind.REAL)
    assert real.balance == Decimal("11.00")
    assert sum(Entry.objects.filter(account=real).values_list("amount", flat=True)) == real.balance
    events = list(OutboxEvent.objects.filter(player_id=funded.pk, event_type__in=["CASINO", "USER_BALANCES_UPDATE"])
                  .order_by("id").values_list("event_type", flat=True))
    assert events == ["CASINO", "USER_BALANCES_UPDATE", "CASINO", "USER_BALANCES_UPDATE"]


def test_the_server_answers_as_the_web_servers_path_does(wallet_server, token, provider):
    """The same calls through Django's path (the test client) and through the server: the same bodies."""
    through_django = signed_post(provider, "bet", bet(token, "b1", round_id="r1")).json()
    through_server = wallet_server.post("bet", bet(token, "b2", round_id="r2"))[1]
    assert through_server == through_django | {"transaction_id": "b2", "round_id": "r2", "balance": "11.00",
                                               "real_balance": "6.00"}

    combined = {"token": token, "bet_transaction_id": "b3", "win_transaction_id": "w3", "round_id": "r3",
                "bet_amount": "1.00", "win_amount": "4.00", "currency": "EUR"}
    status, answer = wallet_server.post("bet-win", combined)
    again = signed_post(provider, "bet-win", combined)  # a retry, answered by Django's path
    assert status == 200 and answer == again.json()
    assert answer["bet_transaction_id"] == "b3" and answer["balance"] == "14.00"


def test_a_retry_gets_the_first_answer_and_a_reused_id_a_duplicate(wallet_server, token, funded):
    first = wallet_server.post("bet", bet(token))
    retried = wallet_server.post("bet", bet(token))  # a new nonce, the same transaction
    reused = wallet_server.post("bet", bet(token, amount="3.00"))

    assert retried == first
    assert reused[0] == 409 and reused[1]["code"] == "DUPLICATE_TRANSACTION" and reused[1]["balance"] == "13.00"
    assert GameTransaction.objects.filter(player=funded, kind=TransactionKind.BET).count() == 1


def test_a_bet_the_statement_declines_gets_the_full_paths_refusal_with_the_balance(wallet_server, token, funded):
    body = json.dumps(bet(token, amount="50.00")).encode()
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    status, answer = wallet_server.post("bet", body, headers=headers)
    replayed = wallet_server.post("bet", body, headers=headers)

    assert status == 402 and answer["code"] == "INSUFFICIENT_FUNDS" and answer["balance"] == "15.00"
    assert not GameTransaction.objects.filter(player=funded).exists()
    # The statement's refusal left the nonce unspent; the full path spent it, once.
    assert (replayed[0], replayed[1]["code"]) == (401, "REQUEST_REPLAYED")
    assert RequestNonce.objects.filter(vendor_code=VENDOR_CODE, nonce=headers["X-Nonce"]).count() == 1


def test_a_booked_calls_nonce_is_spent_by_its_statement_and_a_replay_refused(wallet_server, token, funded):
    body = json.dumps(bet(token)).encode()
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    first = wallet_server.post("bet", body, headers=headers)
    spent = RequestNonce.objects.get(vendor_code=VENDOR_CODE, nonce=headers["X-Nonce"])
    booked = GameTransaction.objects.get(player=funded, external_id="b1")
    replayed = wallet_server.post("bet", body, headers=headers)
    rollback = json.dumps({"token": token, "transaction_id": "rb1", "bet_transaction_id": "b1"}).encode()
    rollback_headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=rollback)
    refunded = wallet_server.post("rollback", rollback, headers=rollback_headers)
    rollback_replayed = wallet_server.post("rollback", rollback, headers=rollback_headers)

    assert first[0] == 200 and spent.spent_at == booked.created_at  # one statement: the same clock reading
    assert (replayed[0], replayed[1]["code"]) == (401, "REQUEST_REPLAYED")
    assert refunded[0] == 200 and (rollback_replayed[0], rollback_replayed[1]["code"]) == (401, "REQUEST_REPLAYED")
    assert GameTransaction.objects.filter(player=funded).count() == 2
    assert Account.objects.get(player=funded, kind=AccountKind.REAL).balance == Decimal("10.00")


def test_authenticate_balance_and_rollback_are_answered(wallet_server, token, funded):
    assert wallet_server.post("authenticate", {"token": token})[1]["player_id"] == str(funded.pk)
    wallet_server.post("bet", bet(token))
    status, refunded = wallet_server.post("rollback", {"token": token, "transaction_id": "rb1",
                                                       "bet_transaction_id": "b1"})
    assert status == 200 and refunded["balance"] == "15.00"
    assert wallet_server.post("balance", {"token": token})[1]["balance"] == "15.00"


def test_concurrent_bets_on_one_player_are_each_booked_once_and_the_balance_is_exact(wallet_server, token, funded):
    from concurrent.futures import ThreadPoolExecutor

    def place(n: int):  # each player of a provider's pool: its own connection; every bet sent twice
        server = Server(wallet_server.process, wallet_server.port, wallet_server.log)
        return [server.post("bet", bet(token, f"b{n}", amount="0.50", round_id=f"r{n}")) for _ in range(2)]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(place, range(20)))

    assert all(first == again and first[0] == 200 for first, again in answers)
    assert GameTransaction.objects.filter(player=funded, kind=TransactionKind.BET).count() == 20
    real = Account.objects.get(player=funded, kind=AccountKind.REAL)
    assert real.balance == Decimal("0.00")  # 10.00 real money, 20 bets of 0.50
    assert sum(Entry.objects.filter(account=real).values_list("amount", flat=True)) == real.balance
    assert sorted(answer[0][1]["real_balance"] for answer in answers) == [f"{n / 2:.2f}" for n in range(20)]


def test_refusals_found_before_the_database_have_the_contracts_codes(wallet_server, token, funded):
    body = json.dumps(bet(token)).encode()
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    tampered = wallet_server.post("bet", body.replace(b"2.00", b"0.01"), headers=headers)
    first = wallet_server.post("bet", body, headers=headers)
    replayed = wallet_server.post("bet", body, headers=headers)
    unknown = wallet_server.post("bet", body, headers={**headers, "X-Provider": "nobody"})
    not_json = wallet_server.post("bet", b"{nope")
    bad_amount = wallet_server.post("bet", bet(token, "b9", amount="1.001"))
    too_large = wallet_server.post("bet", b"{" + b" " * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b"}")

    assert (tampered[0], tampered[1]["code"]) == (401, "INVALID_SIGNATURE")
    assert first[0] == 200
    assert (replayed[0], replayed[1]["code"]) == (401, "REQUEST_REPLAYED")
    assert (unknown[0], unknown[1]["code"]) == (401, "UNKNOWN_PROVIDER")
    assert (not_json[0], not_json[1]["code"]) == (400, "INVALID_REQUEST")
    assert (bad_amount[0], bad_amount[1]["code"]) == (400, "INVALID_REQUEST") and "amount" in bad_amount[1]["fields"]
    assert (too_large[0], too_large[1]["code"]) == (400, "INVALID_REQUEST")
    assert wallet_server.get("/wallet-api/v1/bet")[0] == 405
    assert wallet_server.get("/admin/")[0] == 404
    assert GameTransaction.objects.filter(player=funded).count() == 1


def test_a_dead_database_connection_is_replaced_and_the_call_booked_once(wallet_server, token, funded):
    wallet_server.post("bet", bet(token, "b0", round_id="r0"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name = 'igaming-wallet-server' AND datname = current_database()")
        assert cursor.rowcount == 2

    body = json.dumps(bet(token)).encode()
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    status, answer = wallet_server.post("bet", body, headers=headers)
    replayed = wallet_server.post("bet", body, headers=headers)

    assert status == 200 and answer["balance"] == "11.00"
    assert GameTransaction.objects.filter(player=funded, external_id="b1").count() == 1
    assert len(fast_statements_run()) >= 1  # connected again
    assert (replayed[0], replayed[1]["code"]) == (401, "REQUEST_REPLAYED")  # the full path spent the nonce


def test_health_keep_alive_and_a_log_without_personal_data(wallet_server, token):
    assert wallet_server.get("/health") == (200, {"status": "ok", "database": "ok"})
    wallet_server.post("bet", bet(token), path="/wallet-api/v1/bet?email=someone%40example.com")
    socket_before = wallet_server.connection.sock
    wallet_server.post("bet", bet(token, "b2"))
    assert wallet_server.connection.sock is socket_before  # the same kept-alive connection

    log = wallet_server.log.read_text()
    assert re.search(r'"POST /wallet-api/v1/bet" 200 \d+ \d+ms', log)
    assert "someone" not in log and "127.0.0.1:" not in log.replace(f"127.0.0.1:{wallet_server.port}", "")


def test_a_call_in_progress_at_sigterm_is_answered_before_the_server_stops(wallet_server, token, funded):
    body = json.dumps(bet(token)).encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in signed_headers(
        vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body).items())
    with socket.create_connection(("127.0.0.1", wallet_server.port), timeout=10) as client:
        client.sendall(f"POST /wallet-api/v1/bet HTTP/1.1\r\nHost: wallet\r\nContent-Length: {len(body)}\r\n"
                       f"{head}\r\n".encode() + body[:10])
        time.sleep(1)  # the server has read the head: the call is in progress, not an idle connection
        wallet_server.process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        client.sendall(body[10:])
        answer = b""
        while chunk := client.recv(65536):  # the server closes the connection after its last answer
            answer += chunk

    wallet_server.process.wait(timeout=40)
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"balance":"13.00"' in answer
    assert GameTransaction.objects.filter(player=funded, external_id="b1").count() == 1
    assert "Application shutdown complete" in wallet_server.log.read_text()


def test_the_server_freezes_its_long_lived_objects_once_started_and_after_its_first_requests(
        transactional_db, monkeypatch):
    from games.seamless import server as module

    freezes = []
    monkeypatch.setattr(module.gc, "freeze", lambda: freezes.append(len(sent)))
    app, sent = module.WalletServer(access_log=False), []

    async def send(message):
        sent.append(message)

    async def requests(count):
        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        for _ in range(count):
            await app({"type": "http", "method": "GET", "path": "/nowhere", "headers": []}, receive, send)

    async def play():
        lifespan_messages = asyncio.Queue()
        lifespan_messages.put_nowait({"type": "lifespan.startup"})
        lifespan = asyncio.create_task(app({"type": "lifespan"}, lifespan_messages.get, send))
        while not sent:
            await asyncio.sleep(0.01)
        after_start = list(freezes)
        await requests(module.GC_FREEZE_AGAIN_AFTER_REQUESTS - 1)
        before_last = list(freezes)
        await requests(1)
        lifespan_messages.put_nowait({"type": "lifespan.shutdown"})
        await lifespan
        return after_start, before_last

    after_start, before_last = asyncio.run(play())

    assert after_start == [0]  # frozen before the startup was reported complete
    assert before_last == [0] and len(freezes) == 2
    assert sent[0] == {"type": "lifespan.startup.complete"} and sent[-1] == {"type": "lifespan.shutdown.complete"}


def test_without_redis_calls_are_booked_and_replays_refused_and_their_events_wait_in_the_outbox(
        transactional_db, tmp_path, token, funded):
    queue = f"test-kicks-{uuid.uuid4().hex}"
    server = _server_start(tmp_path, queue, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    body = json.dumps(bet(token)).encode()
    headers = signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body)
    try:
        wait_for_health(server.port, server.process, str(server.log))
        health = server.get("/health")
        placed = server.post("bet", body, headers=headers)
        replayed = server.post("bet", body, headers=headers)
    finally:
        _server_stop(server, queue)

    assert health == (200, {"status": "ok", "database": "ok"})
    assert placed[0] == 200 and placed[1]["balance"] == "13.00"
    assert (replayed[0], replayed[1]["code"]) == (401, "REQUEST_REPLAYED")
    assert GameTransaction.objects.filter(player=funded).count() == 1
    # The kick could not be published: the periodic sweep delivers these.
    assert OutboxEvent.objects.filter(player_id=funded.pk, event_type="CASINO", status="PENDING").count() == 1
