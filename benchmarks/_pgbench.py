"""pgbench's TPC-B on the same PostgreSQL server as a benchmark, for a side-by-side figure.

Its tables live in their own database (`pgbench_bench`, scale 10), initialised once and kept.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg2

from benchmarks.common import database_ensure, log, with_database_name

PGBENCH_DATABASE = "pgbench_bench"
PGBENCH_SCALE = 10


def pgbench_binary() -> Path:
    """pgserver ships pgbench with its PostgreSQL build."""
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"


def connection_args(url: str) -> list[str]:
    parts = urlsplit(url)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    args = ["-h", host, "-U", parts.username or "postgres"]
    if parts.port:
        args += ["-p", str(parts.port)]
    return [*args, parts.path.lstrip("/")]


def _initialised(url: str) -> bool:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('pgbench_branches') IS NOT NULL")
            if not cursor.fetchone()[0]:
                return False
            cursor.execute("SELECT COUNT(*) FROM pgbench_branches")
            return cursor.fetchone()[0] == PGBENCH_SCALE
    finally:
        connection.close()


def pgbench_tps(database_url: str, *, clients: int, default_seconds: int = 10) -> float:
    """TPC-B transactions per second with `clients` clients (BENCH_PGBENCH_SECONDS long)."""
    url = with_database_name(database_url, PGBENCH_DATABASE)
    database_ensure(url)
    args = connection_args(url)
    if not _initialised(url):
        log(f"bench: pgbench -i -s {PGBENCH_SCALE} into {PGBENCH_DATABASE} (once)")
        subprocess.run([str(pgbench_binary()), "-i", "-q", "-s", str(PGBENCH_SCALE), *args], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = int(os.environ.get("BENCH_PGBENCH_SECONDS", str(default_seconds)))
    log(f"bench: pgbench TPC-B, {clients} clients, {seconds} s")
    result = subprocess.run([str(pgbench_binary()), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), *args],
                            check=True, capture_output=True, text=True)
    for line in result.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench printed no tps: {result.stdout[-300:]}")
