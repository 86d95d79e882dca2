"""Shared by the wallet benchmarks; not a benchmark itself (the runner skips names starting with "_").

The wallet benchmarks run in a child process against their own databases, `igaming_bench_wallet`
(the search benchmark's 10 million ledger entries, loaded once and kept) and `igaming_bench_wallet_tps`
(the throughput benchmark's payments), and their own Redis database, so that neither their data nor
the CRM events they cause meet the other benchmarks' (which share `igaming_bench`). The parent
(`run()`) prepares the database and reads the child's figures, printed as one JSON line on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.common import Figure, database_ensure, log, with_database_name, with_redis_db

ROOT = Path(__file__).resolve().parent.parent
SEARCH_DATABASE = "igaming_bench_wallet"
THROUGHPUT_DATABASE = "igaming_bench_wallet_tps"
WALLET_BENCH_REDIS_DB = 11


def wallet_bench_env(database: str) -> dict[str, str]:
    from igaming import engines

    base = os.environ.get("BENCH_DATABASE_URL") or engines.database_url()
    redis = os.environ.get("BENCH_REDIS_URL") or engines.redis_url()
    return {**os.environ, "DATABASE_URL": with_database_name(base, database),
            "REDIS_URL": with_redis_db(redis, WALLET_BENCH_REDIS_DB), "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "igaming.settings", "CACHE_KEY_PREFIX": "bench-wallet"}


def wallet_bench_prepare(database: str) -> dict[str, str]:
    """Create and migrate a wallet bench database; return the environment of its processes."""
    env = wallet_bench_env(database)
    if database_ensure(env["DATABASE_URL"]):
        log(f"bench: created database {database}")
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    return env


def run_child(module: str, env: dict[str, str], timeout: float = 3600) -> list[Figure]:
    """Run `python -m benchmarks.<module> --child`; its last stdout line is a JSON list of figures."""
    completed = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", "--child"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, text=True, timeout=timeout)
    lines = [line for line in completed.stdout.splitlines() if line.strip()]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"benchmarks.{module} child failed with exit status {completed.returncode}")
    return [tuple(figure) for figure in json.loads(lines[-1])]


def child_setup() -> None:
    import django

    django.setup()


def child_report(figures: list[Figure]) -> None:
    print(json.dumps(figures), flush=True)
