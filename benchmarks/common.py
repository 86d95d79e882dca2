"""Helpers every benchmark module shares: the bench database, timing and percentiles.

A benchmark module is `benchmarks/<name>.py` with a `run()` that returns a list of
`(name, value, unit)` figures. `python -m benchmarks.run` calls `bench_setup()` before it imports the
modules, so a module may import Django models at the top and runs against the bench database:

- PostgreSQL: the database `igaming_bench` on the same server as the project's database (created and
  migrated when missing), or `BENCH_DATABASE_URL`. The development data is never touched.
- Redis: database 10 of the same server, or `BENCH_REDIS_URL`, so that a development Celery worker
  never picks up a benchmark's tasks (and the reverse).
- CRM delivery kicks: a queue of the run's own (`CRM_DELIVERY_QUEUE=bench-kicks-<id>`), removed by
  `bench_teardown()`. Most benchmarks run no Celery worker, so the kicks their commits publish would
  otherwise pile up in Redis from run to run (200,000 of them, 200 MB, on the development machine).

Processes a benchmark starts (a Celery worker, a simulator, the web server) inherit these through the
environment.
"""

from __future__ import annotations

import http.client
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

BENCH_DATABASE_NAME = "igaming_bench"
BENCH_REDIS_DB = 10

Figure = tuple[str, float | int, str]


def percentile(values: Iterable[float], pct: float) -> float:
    """The pct-th percentile (0-100) with linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def time_ms(call: Callable[[], object]) -> float:
    """Wall-clock milliseconds one call takes."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def time_each_ms(call: Callable[[object], object], inputs: Sequence[object]) -> list[float]:
    """Milliseconds of `call(item)` for each input, in order."""
    return [time_ms(lambda item=item: call(item)) for item in inputs]


def latency_figures(name: str, samples_ms: Sequence[float]) -> list[Figure]:
    """The p50 and p95 of a list of latencies, as figures named `<name>.p50` and `<name>.p95`."""
    return [(f"{name}.p50", round(percentile(samples_ms, 50), 2), "ms"),
            (f"{name}.p95", round(percentile(samples_ms, 95), 2), "ms")]


def format_figure(name: str, value: float | int, unit: str) -> str:
    """One output line, exactly `bench: <name> = <value> <unit>`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"figure {name!r} has a non-numeric value {value!r}")
    shown = str(value) if isinstance(value, int) else f"{value:.2f}"
    return f"bench: {name} = {shown} {unit}".rstrip()


def log(message: str) -> None:
    """Progress for the person watching; stdout carries only the figures."""
    print(message, file=sys.stderr, flush=True)


def with_database_name(url: str, name: str) -> str:
    """The same server URL with another database, e.g. `postgres://u@/igaming?host=/s` -> `.../igaming_bench?...`."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def bench_database_url() -> str:
    from igaming import engines

    return os.environ.get("BENCH_DATABASE_URL") or with_database_name(engines.database_url(), BENCH_DATABASE_NAME)


def bench_redis_url() -> str:
    from igaming import engines

    return os.environ.get("BENCH_REDIS_URL") or with_redis_db(engines.redis_url(), BENCH_REDIS_DB)


def database_ensure(url: str) -> bool:
    """Create the database of `url` on its server when it is missing; True when it was created."""
    import psycopg2
    from psycopg2 import sql

    name = urlsplit(url).path.lstrip("/")
    connection = psycopg2.connect(with_database_name(url, "postgres"))
    connection.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return True
    finally:
        connection.close()


def bench_setup() -> str:
    """Point this process (and its children) at the bench database and Redis, set Django up, migrate.

    Must run before Django is imported anywhere else in the process. Returns the database URL.
    """
    database_url = bench_database_url()
    redis_url = bench_redis_url()
    if database_ensure(database_url):
        log(f"bench: created database {urlsplit(database_url).path.lstrip('/')}")
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ["CRM_DELIVERY_QUEUE"] = f"bench-kicks-{uuid.uuid4().hex[:8]}"
    os.environ["DEBUG"] = "0"  # measure what production runs: no query log, no debug templates
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "igaming.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    return database_url


def bench_teardown() -> None:
    """Remove the run's queue of CRM delivery kicks (see the module's docstring)."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).delete(settings.CRM_DELIVERY_QUEUE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    """The platform's web server as the image runs it (igaming/webserver.py), on 127.0.0.1:`port` without
    an access log, once `/health` answers. Its own output goes to a log file named in any error."""
    return _server(["igaming.webserver"], port, env)


def wallet_server(port: int, env: dict[str, str]) -> subprocess.Popen:
    """The wallet server as the image runs it (igaming/walletserver.py), like `web_server`."""
    return _server(["igaming.walletserver"], port, env)


def _server(module: list[str], port: int, env: dict[str, str]) -> subprocess.Popen:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with tempfile.NamedTemporaryFile("wb", prefix="bench-web-", suffix=".log", delete=False) as output:
        server = subprocess.Popen([sys.executable, "-m", *module, "--bind", f"127.0.0.1:{port}", "--no-access-log"],
                                  cwd=root, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_health(port, server, output.name)
    except BaseException:
        server.terminate()
        server.wait(timeout=30)
        raise
    return server


def wait_for_health(port: int, server: subprocess.Popen, output: str, timeout: float = 60) -> None:
    """Wait until the web server `server` on `port` answers `/health`; `output` names its log in errors."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the web server exited ({server.returncode}), see {output}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the web server did not answer, see {output}")
