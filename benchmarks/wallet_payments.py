"""Wallet throughput: deposit approvals per second through the services and through the HTTP API (the
PSP webhook, signed, on the web server), next to pgbench's TPC-B on the same PostgreSQL server in the same run.

A deposit approval is the wallet's typical write: lock the payment, lock two accounts in id order,
insert a ledger transaction and two entries, update two balances and the payment, write two outbox
events (PAYMENT, USER_BALANCES_UPDATE), commit (synchronous_commit on). TPC-B is pgbench's default:
three updates, a select and an insert per transaction. The ratio says how close the wallet's
transaction is to the server's raw speed for a small read-modify-write transaction.

Env: BENCH_DEPOSITS (approvals per measurement, default 2000), BENCH_PGBENCH_SECONDS (default 15).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid

from benchmarks import _wallet
from benchmarks._pgbench import pgbench_tps
from benchmarks.common import Figure, free_port, log, web_server

THREADS = 4
HTTP_CLIENTS = 8


def run() -> list[Figure]:
    env = _wallet.wallet_bench_prepare(_wallet.THROUGHPUT_DATABASE)
    figures = _wallet.run_child("wallet_payments", env)
    figures += pgbench_figures(env["DATABASE_URL"])
    by_name = {name: value for name, value, _unit in figures}
    tps = by_name["wallet.pgbench_tpcb_tps"]
    best_services = max(by_name["wallet.deposit_approvals_services"],
                        by_name["wallet.deposit_approvals_services_4threads"])
    figures.append(("wallet.approvals_services_vs_pgbench", round(100 * best_services / tps, 2), "% of TPC-B"))
    figures.append(("wallet.approvals_api_vs_pgbench", round(100 * by_name["wallet.deposit_approvals_api"] / tps, 2),
                    "% of TPC-B"))
    return figures


def pgbench_figures(wallet_database_url: str) -> list[Figure]:
    tps = pgbench_tps(wallet_database_url, clients=HTTP_CLIENTS, default_seconds=15)
    return [("wallet.pgbench_tpcb_tps", round(tps, 1), "tx/s")]


# --- the child: wallet approvals --------------------------------------------------------------------


def child() -> None:
    _wallet.child_setup()
    count = int(os.environ.get("BENCH_DEPOSITS", "2000"))
    players = bench_players(200)
    figures: list[Figure] = []

    pending = requested_deposits(players, count)
    figures.append(("wallet.deposit_approvals_services", round(approve_in_threads(pending, 1), 1), "approvals/s"))
    pending = requested_deposits(players, count)
    figures.append(("wallet.deposit_approvals_services_4threads", round(approve_in_threads(pending, THREADS), 1),
                    "approvals/s"))
    pending = requested_deposits(players, count)
    figures.append(("wallet.deposit_approvals_api", round(approve_over_http(pending), 1), "approvals/s"))
    _wallet.child_report(figures)


def bench_players(count: int) -> list:
    from datetime import date

    from players.models import Brand, Player

    brand, _ = Brand.objects.get_or_create(code="bench-wallet", defaults={"name": "Bench", "origin": "bench.example"})
    existing = list(Player.objects.filter(brand=brand).order_by("pk")[:count])
    for n in range(len(existing), count):
        existing.append(Player.objects.create(
            brand=brand, username=f"bench-wallet-{n}", email=f"bench-wallet-{n}@bench.example", password="!",
            birth_date=date(1990, 1, 1), country="MT", currency="EUR", language="en", origin=brand.origin))
    return existing


def requested_deposits(players: list, count: int) -> list[tuple[int, str]]:
    """`count` Requested deposits spread over the players (not timed): (payment id, amount)."""
    from wallet.services.payments import deposit_request

    made = []
    for n in range(count):
        amount = f"{10 + n % 90}.{n % 100:02d}"
        result = deposit_request(player=players[n % len(players)], amount=amount, currency="EUR",
                                 external_id=f"bench-{uuid.uuid4().hex}")
        made.append((result.payment.pk, amount))
    return made


def _chunks(items: list, parts: int) -> list[list]:
    return [items[index::parts] for index in range(parts)]


def approve_in_threads(pending: list[tuple[int, str]], threads: int) -> float:
    from django.db import connection

    from wallet.services.payments import deposit_approve

    log(f"bench: {len(pending)} approvals through the services, {threads} thread(s)")
    errors: list[Exception] = []

    def work(chunk):
        try:
            for payment_id, amount in chunk:
                deposit_approve(payment_id=payment_id, psp_reference=f"bench-{payment_id}", amount=amount,
                                currency="EUR")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(chunk,)) for chunk in _chunks(pending, threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    _check_approved(pending)
    return len(pending) / elapsed


def _check_approved(pending: list[tuple[int, str]]) -> None:
    from wallet.models import Payment

    approved = Payment.objects.filter(pk__in=[payment_id for payment_id, _ in pending], status="Approved").count()
    if approved != len(pending):
        raise RuntimeError(f"only {approved} of {len(pending)} deposits were approved")


def approve_over_http(pending: list[tuple[int, str]]) -> float:
    """Signed PSP webhooks to the web server (4 workers) from 8 keep-alive clients."""
    import requests

    from wallet import psp

    port = free_port()
    server = web_server(port, {**os.environ, "WEB_CONCURRENCY": "4"})
    base = f"http://127.0.0.1:{port}"
    try:
        log(f"bench: {len(pending)} approvals through the API (PSP webhooks), {HTTP_CLIENTS} clients")
        errors: list[str] = []

        def work(chunk):
            session = requests.Session()
            for payment_id, amount in chunk:
                body = json.dumps({"event_id": f"bench-{uuid.uuid4().hex}", "type": "payment.approved",
                                   "merchant_reference": str(payment_id), "psp_reference": f"bench-{payment_id}",
                                   "amount": amount, "currency": "EUR"}).encode()
                response = session.post(f"{base}/api/v1/psp/webhook", data=body, headers=psp.signed_headers(body),
                                        timeout=30)
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text[:200]}")

        workers = [threading.Thread(target=work, args=(chunk,)) for chunk in _chunks(pending, HTTP_CLIENTS)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    if errors:
        raise RuntimeError(f"{len(errors)} webhooks failed, e.g. {errors[0]}")
    _check_approved(pending)
    return len(pending) / elapsed


if __name__ == "__main__" and "--child" in sys.argv:
    child()
