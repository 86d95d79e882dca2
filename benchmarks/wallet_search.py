"""Back-office transaction search at 10 million ledger entries: p50/p95 of each search the screens run
(by player, external id, kind and date range, payment status and date range), through the selector and
through the admin page, plus how long `wallet_reconcile` takes over the whole ledger.

The ledger is bulk-loaded with COPY into `igaming_bench_wallet` once and kept (about 5 million
transactions, 10 million entries, 4 million payments over a year for 100,000 players, consistent: the
reconcile figure proves it). BENCH_LEDGER_ENTRIES lowers the size (a different size reloads).
"""

from __future__ import annotations

import io
import os
import queue
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from benchmarks import _wallet
from benchmarks.common import Figure, latency_figures, log, percentile, time_ms

TARGET_MS = 50
SAMPLES = 200
ADMIN_RENDERS = 20
WALLET_TABLES = ["wallet_entry", "wallet_ledgertransaction", "wallet_payment", "wallet_account"]
CHUNK_TRANSACTIONS = 50_000


def run() -> list[Figure]:
    env = _wallet.wallet_bench_prepare(_wallet.SEARCH_DATABASE)
    return _wallet.run_child("wallet_search", env, timeout=4 * 3600)


def entries_target() -> int:
    return int(os.environ.get("BENCH_LEDGER_ENTRIES", "10000000"))


# --- loading ----------------------------------------------------------------------------------------


def _money(minor: int, places: int) -> str:
    if minor < 0:
        return "-" + _money(-minor, places)
    if places == 0:
        return str(minor)
    return f"{minor // 100}.{minor % 100:02d}"


def ledger_load(target: int) -> float:
    """Replace the wallet tables with a consistent ledger of about `target` entries; return seconds."""
    from django.conf import settings
    from django.db import connection

    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, currency FROM players_player ORDER BY id")
        players = cursor.fetchall()
        cursor.execute(f"TRUNCATE {', '.join(WALLET_TABLES)}, wallet_pspwebhook, wallet_reconciliationrun "
                       "RESTART IDENTITY CASCADE")
        cursor.execute("""SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
                          JOIN pg_class c ON c.oid = i.indexrelid
                          WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisunique""", [WALLET_TABLES])
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for table in WALLET_TABLES:
            # Foreign keys and the ledger's guards are off while rows stream in; the generator keeps the
            # books consistent and the reconcile figure checks it afterwards.
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
    try:
        balances = _copy_ledger(players, target, settings.WALLET_HOUSE_SHARDS)
        _copy_accounts(balances)
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for name, definition in indexes:
                log(f"bench: building index {name}")
                cursor.execute(definition)
    finally:
        with connection.cursor() as cursor:
            for table in WALLET_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")
    with connection.cursor() as cursor:
        for table in WALLET_TABLES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM {table}))")
            cursor.execute(f"VACUUM ANALYZE {table}")
    return time.monotonic() - started


class _Books:
    """Account ids and running balances (in minor units) while the ledger is generated."""

    def __init__(self, players: list[tuple[int, str]], shards: int):
        from wallet.currencies import MINOR_UNITS

        self.players = players
        self.places = {currency: MINOR_UNITS[currency] for _, currency in players}
        self.real = {pid: 3 * n + 1 for n, (pid, _) in enumerate(players)}
        self.hold = {pid: 3 * n + 3 for n, (pid, _) in enumerate(players)}
        self.balance: dict[int, int] = {}
        self.house: dict[tuple[str, int], int] = {}
        self.next_house = 3 * len(players) + 1
        self.shards = shards
        self.rows: list[tuple] = []  # (id, player_id, kind, currency, shard)
        for n, (pid, currency) in enumerate(players):
            for offset, kind in enumerate(("REAL", "BONUS", "WITHDRAWAL_HOLD"), start=1):
                self.rows.append((3 * n + offset, pid, kind, currency, 0))

    def clearing(self, player_id: int, currency: str) -> int:
        key = (currency, player_id % self.shards)
        if key not in self.house:
            self.house[key] = self.next_house
            self.rows.append((self.next_house, None, "PSP_CLEARING", currency, key[1]))
            self.next_house += 1
        return self.house[key]


def _generate(players: list[tuple[int, str]], target: int, shards: int, out: queue.Queue) -> None:
    rng = random.Random(20261121)
    books = _Books(players, shards)
    balance = books.balance
    estimate = target // 2
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / estimate
    payment_id = tx_id = entry_id = 0
    entries_made = 0
    payments, txs, entries = [], [], []

    def tx(kind, external, pid, currency, amount, pay, stamp, legs):
        nonlocal tx_id, entry_id, entries_made
        tx_id += 1
        txs.append(f"{tx_id}\t{kind}\tpayments\t{external}\t{pid}\t{currency}\t{amount}\t{pay}\t\\N\t{stamp}\t\\N\t\n")
        places = books.places[currency]
        for account, delta in legs:
            entry_id += 1
            after = balance.get(account, 0) + delta
            balance[account] = after
            entries.append(f"{entry_id}\t{tx_id}\t{account}\t{currency}\t{_money(delta, places)}\t"
                           f"{_money(after, places)}\n")
        entries_made += len(legs)

    while entries_made < target:
        pid, currency = players[rng.randrange(len(players))]
        places = books.places[currency]
        real, hold, clearing = books.real[pid], books.hold[pid], books.clearing(pid, currency)
        stamp = (start + step * tx_id).isoformat()
        payment_id += 1
        available = balance.get(real, 0)
        if available < 2000 or rng.random() < 0.6:
            minor = rng.randrange(1000, 50000)
            amount = _money(minor, places)
            approved = rng.random() < 0.95
            status = "Approved" if approved else "Rejected"
            payments.append(f"{payment_id}\t{pid}\tDEPOSIT\t{status}\t{amount}\t{currency}\tbench-{payment_id}\t"
                            f"psp-{payment_id}\t\t{stamp}\t{stamp}\t{stamp}\t\\N\t\n")
            if approved:
                tx("DEPOSIT", f"deposit:{payment_id}", pid, currency, amount, payment_id, stamp,
                   [(clearing, -minor), (real, minor)])
        else:
            minor = rng.randrange(1, available)
            amount = _money(minor, places)
            roll = rng.random()
            status, payout = ("Approved", "CONFIRMED") if roll < 0.8 else \
                ("Requested", "") if roll < 0.95 else ("Cancelled", "")
            payments.append(f"{payment_id}\t{pid}\tWITHDRAWAL\t{status}\t{amount}\t{currency}\tbench-{payment_id}\t"
                            f"\t{payout}\t{stamp}\t{stamp}\t{stamp if status != 'Requested' else chr(92) + 'N'}\t"
                            f"\\N\t\n")
            tx("WITHDRAWAL_HOLD", f"withdrawal-hold:{payment_id}", pid, currency, amount, payment_id, stamp,
               [(real, -minor), (hold, minor)])
            if status == "Approved":
                tx("WITHDRAWAL_PAYOUT", f"withdrawal-payout:{payment_id}", pid, currency, amount, payment_id, stamp,
                   [(hold, -minor), (clearing, minor)])
            elif status == "Cancelled":
                tx("WITHDRAWAL_RELEASE", f"withdrawal-release:{payment_id}", pid, currency, amount, payment_id,
                   stamp, [(hold, -minor), (real, minor)])
        if len(txs) >= CHUNK_TRANSACTIONS:
            out.put(("".join(payments), "".join(txs), "".join(entries), entries_made))
            payments, txs, entries = [], [], []
    out.put(("".join(payments), "".join(txs), "".join(entries), entries_made))
    out.put(books)


def _copy_ledger(players, target: int, shards: int) -> _Books:
    from django.db import connection

    chunks: queue.Queue = queue.Queue(maxsize=3)
    failure: list[BaseException] = []

    def produce():
        try:
            _generate(players, target, shards, chunks)
        except BaseException as error:  # noqa: BLE001 - handed to the copying thread
            failure.append(error)
            chunks.put(None)

    threading.Thread(target=produce, daemon=True, name="wallet-bench-rows").start()
    last_report = 0
    with connection.cursor() as cursor:
        while True:
            item = chunks.get()
            if item is None:
                raise failure[0]
            if not isinstance(item, tuple):
                return item
            payments, txs, entries, made = item
            cursor.copy_expert("COPY wallet_payment (id, player_id, kind, status, amount, currency, external_id, "
                               "psp_reference, payout_status, created_at, updated_at, decided_at, decided_by_id, "
                               "reason) FROM STDIN", io.StringIO(payments))
            cursor.copy_expert("COPY wallet_ledgertransaction (id, kind, source, external_id, player_id, currency, "
                               "amount, payment_id, reverses_id, created_at, actor_id, reason) FROM STDIN",
                               io.StringIO(txs))
            cursor.copy_expert("COPY wallet_entry (id, transaction_id, account_id, currency, amount, balance_after) "
                               "FROM STDIN", io.StringIO(entries))
            if made - last_report >= 1_000_000:
                log(f"bench: {made:,} ledger entries loaded")
                last_report = made


def _copy_accounts(books: _Books) -> None:
    from django.db import connection

    now = datetime.now(UTC).isoformat()
    lines = []
    for account_id, player_id, kind, currency, shard in books.rows:
        balance = _money(books.balance.get(account_id, 0), books.places[currency])
        lines.append(f"{account_id}\t{player_id if player_id else chr(92) + 'N'}\t{kind}\t{currency}\t{shard}\t"
                     f"{balance}\t{now}\t{now}\n")
    with connection.cursor() as cursor:
        cursor.copy_expert("COPY wallet_account (id, player_id, kind, currency, shard, balance, created_at, "
                           "updated_at) FROM STDIN", io.StringIO("".join(lines)))


# --- measuring --------------------------------------------------------------------------------------


def _explain(label: str, queryset) -> None:
    plan = queryset.explain()
    scans = [line.strip() for line in plan.splitlines() if "Scan" in line]
    log(f"bench: plan {label}: {' | '.join(scans)[:300]}")


def search_figures(rng: random.Random) -> list[Figure]:
    from django.db import connection

    from wallet.models import PaymentStatus, TransactionKind
    from wallet.selectors import transaction_search

    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(created_at), MAX(created_at), MAX(id) FROM wallet_ledgertransaction")
        first, last, max_tx = cursor.fetchone()
        cursor.execute("SELECT player_id, external_id FROM wallet_ledgertransaction WHERE id = ANY(%s)",
                       [[rng.randrange(1, max_tx + 1) for _ in range(SAMPLES)]])
        samples = cursor.fetchall()
    players = [player for player, _ in samples]
    external_ids = [external for _, external in samples]
    span = (last - first).total_seconds()

    def window(days: int) -> tuple[datetime, datetime]:
        begin = first + timedelta(seconds=rng.uniform(0, max(span - days * 86400, 1)))
        return begin, begin + timedelta(days=days)

    kinds = [TransactionKind.DEPOSIT, TransactionKind.WITHDRAWAL_HOLD, TransactionKind.WITHDRAWAL_PAYOUT]
    statuses = [PaymentStatus.REQUESTED, PaymentStatus.CANCELLED, PaymentStatus.APPROVED]
    searches = {
        "player": lambda n: dict(player_id=players[n]),
        "external_id": lambda n: dict(external_id=external_ids[n]),
        "kind_7_days": lambda n: dict(kind=kinds[n % 3], **dict(zip(("date_from", "date_to"), window(7),
                                                                     strict=True))),
        "status_30_days": lambda n: dict(status=statuses[n % 3], **dict(zip(("date_from", "date_to"), window(30),
                                                                            strict=True))),
        "player_and_kind": lambda n: dict(player_id=players[n], kind=kinds[n % 3]),
    }
    figures, everything = [], []
    for name, filters in searches.items():
        _explain(name, transaction_search(**filters(0))[:50])
        samples_ms = [time_ms(lambda n=n, filters=filters: list(transaction_search(**filters(n))[:50]))
                      for n in range(SAMPLES)]
        everything += samples_ms
        figures += latency_figures(f"wallet.search_{name}", samples_ms)
    p95 = round(percentile(everything, 95), 2)
    figures.append(("wallet.search_all.p95", p95, "ms"))
    figures.append(("wallet.search_within_50ms", int(p95 <= TARGET_MS), "bool"))
    return figures


def admin_figures(player_id: int) -> list[Figure]:
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.filter(username="bench-wallet-admin").first() or User.objects.create_superuser(
        "bench-wallet-admin", "bench-wallet-admin@bench.example", "bench-wallet-admin-pass")
    client = Client()
    client.force_login(user)
    urls = {"player": f"/admin/wallet/ledgertransaction/?q={player_id}",
            "kind": "/admin/wallet/ledgertransaction/?kind__exact=DEPOSIT",
            "status": "/admin/wallet/ledgertransaction/?payment_status=Requested"}
    figures = []
    for name, url in urls.items():
        samples = []
        for _ in range(ADMIN_RENDERS):
            started = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
        figures += latency_figures(f"wallet.admin_search_{name}", samples)
    return figures


def child() -> None:
    _wallet.child_setup()
    from django.core.management import call_command
    from django.db import connection

    from players.models import Player
    from wallet.services.reconcile import reconcile_run

    target = entries_target()
    players = max(2_000, target // 100)
    figures: list[Figure] = []
    if (have := Player.objects.count()) < players:
        log(f"bench: loading {players - have:,} players")
        call_command("seed_load", players=players - have)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM wallet_entry")
        entries = cursor.fetchone()[0]
    if not target <= entries < target + 10:
        log(f"bench: loading {target:,} ledger entries (once; kept in igaming_bench_wallet)")
        seconds = ledger_load(target)
        figures.append(("wallet.ledger_load_seconds", round(seconds, 1), "s"))
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM wallet_entry")
            entries = cursor.fetchone()[0]
    figures.append(("wallet.ledger_entries", entries, "entries"))
    rng = random.Random(7)
    figures += search_figures(rng)
    with connection.cursor() as cursor:
        cursor.execute("SELECT player_id FROM wallet_ledgertransaction WHERE id = %s", [rng.randrange(1, 1000)])
        player_id = cursor.fetchone()[0]
    figures += admin_figures(player_id)
    started = time.monotonic()
    run = reconcile_run(trigger="bench")
    figures.append(("wallet.reconcile_seconds", round(time.monotonic() - started, 1), "s"))
    figures.append(("wallet.reconcile_ok", int(run.status == "OK"), "bool"))
    _wallet.child_report(figures)


if __name__ == "__main__" and "--child" in sys.argv:
    child()
