"""The web server: uWSGI (pyuwsgi's wheel, nothing to compile) serving `igaming.wsgi.application`.

    python -m igaming.webserver [--bind 0.0.0.0:8000] [--no-access-log]

uWSGI's HTTP router, a process in C, keeps clients' connections alive (game providers call the wallet on
every bet over a kept-alive connection) and hands each request to a worker thread over a Unix socket.
A worker thread takes the next request by itself and parses it in C; gunicorn's threaded worker,
used before, passed every request from its poller thread to a pool thread and back. Measured on the
2-core bench machine, one worker of three threads each, interleaved runs of the games benchmark: at
650 wallet calls per second offered, the web processes spent 0.61-0.70 ms of CPU per call instead of
0.82-0.96 (the whole machine 2.19 instead of 2.39 ms, medians of five), and took all 650 calls per
second where gunicorn's fell behind at 584.

Workers: WEB_CONCURRENCY, else one per two cores; threads: WEB_THREADS, else 8. A request mostly waits
on PostgreSQL and Redis with the GIL released, and fewer processes cost less CPU per request (shared
caches, fewer database connections). Threads each take the next request themselves, so more of them
cost no more CPU per request; with too few, requests wait in the router for a free one. Interleaved
paced runs at 550 calls per second on the bench machine (p95, medians of three or four): 3 threads
75 ms and twice short of the rate; 6, 8, 10 and 16 threads 28-54 ms, all taking the whole rate, at the
same CPU per call. Each thread holds a database connection: workers x threads of them. With the
database on its own host, set WEB_CONCURRENCY to about the number of cores.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

DEFAULT_THREADS = 8
# Method, path, status, size and time: no query string, client address or user agent, so that the log
# holds no personal data (support searches by e-mail).
ACCESS_LOG_FORMAT = '"%(method) %(var.PATH_INFO)" %(status) %(size) %(msecs)ms'


def worker_count(environ: Mapping[str, str]) -> int:
    return int(environ.get("WEB_CONCURRENCY") or max(1, (os.cpu_count() or 2) // 2))


def thread_count(environ: Mapping[str, str]) -> int:
    return int(environ.get("WEB_THREADS") or DEFAULT_THREADS)


def uwsgi_options(*, bind: str, socket_path: str, environ: Mapping[str, str], access_log: bool = True) -> list[str]:
    """uWSGI's command line for the platform's web process."""
    return [
        "--strict",  # an unknown option stops the server instead of being ignored
        "--master",
        "--module", "igaming.wsgi:application",
        "--need-app",
        # Each worker loads Django after the fork: no connection, client or thread is shared across it.
        "--lazy-apps",
        "--processes", str(worker_count(environ)),
        "--threads", str(thread_count(environ)),
        "--thunder-lock",
        "--http", bind,
        "--http-keepalive",
        # Answer "Expect: 100-continue" at once (a client sending it would otherwise wait a second).
        "--http-manage-expect",
        "--socket", socket_path,
        # Request headers up to 32 KiB (uWSGI's default of 4 KiB refuses a browser with many cookies).
        "--buffer-size", "32768",
        # A request running over 30 s has its worker replaced. Bodies are buffered before the application
        # runs (in memory up to 64 KiB, on disk beyond), as uWSGI advises with harakiri on (it warns that
        # a slow upload could otherwise be rejected).
        "--harakiri", "30",
        "--post-buffering", "65536",
        # Recycle a worker now and then (a leak cannot grow for ever), rarely and not all at once: a new
        # worker loads Django and opens new database connections, which compile the wallet's SQL again.
        "--max-requests", "200000",
        "--max-requests-delta", "20000",
        # SIGTERM (docker stop) lets the requests in progress finish, for up to 30 s.
        "--hook-master-start", "unix_signal:15 gracefully_kill_them_all",
        "--worker-reload-mercy", "30",
        "--reload-mercy", "30",
        # A client that goes away before its answer is not an error of ours.
        "--ignore-sigpipe", "--ignore-write-errors", "--disable-write-exception",
        *(["--log-format", ACCESS_LOG_FORMAT] if access_log else ["--disable-logging"]),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m igaming.webserver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bind", default="0.0.0.0:8000", help="address the HTTP router listens on")
    parser.add_argument("--no-access-log", action="store_true", help="log no line per request")
    args = parser.parse_args(argv)

    import pyuwsgi

    # The router reaches the workers over a socket in a directory of this process's own (mode 0700): no
    # other local user can talk uWSGI's protocol to them, which would let it set any request variable.
    socket_dir = tempfile.mkdtemp(prefix="igaming-web-")
    atexit.register(shutil.rmtree, socket_dir, ignore_errors=True)
    socket_path = str(Path(socket_dir) / "workers.sock")
    pyuwsgi.run(*uwsgi_options(bind=args.bind, socket_path=socket_path, environ=os.environ,
                               access_log=not args.no_access_log))


if __name__ == "__main__":
    main()
