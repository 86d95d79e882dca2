"""The wallet server's process: uvicorn serving games/seamless/server.py's ASGI application.

    python -m igaming.walletserver [--bind 0.0.0.0:8001] [--no-access-log]

One process with one event loop (uvloop), HTTP parsed by httptools. Game providers call it at
`/wallet-api/v1/<operation>`; the web server (igaming/webserver.py) answers the same API with the same
bodies, for anything that reaches it there.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

DEFAULT_BIND = "0.0.0.0:8001"
# Providers keep their connection between calls; uvicorn's default (5 s) would close it between rounds.
KEEP_ALIVE_SECONDS = 75
# SIGTERM (docker stop) lets the calls in progress finish, for up to 30 s, as the web server does.
GRACEFUL_STOP_SECONDS = 30


def uvicorn_options(*, bind: str, access_log: bool = True) -> dict:
    """uvicorn's settings for the wallet server (its own access log replaces uvicorn's, which logs the
    client's address and the query string)."""
    from games.seamless.server import WalletServer

    host, _, port = bind.rpartition(":")
    return {"app": WalletServer(access_log=access_log), "host": host or "0.0.0.0", "port": int(port),
            "loop": "uvloop", "http": "httptools", "lifespan": "on", "access_log": False, "log_config": None,
            "timeout_keep_alive": KEEP_ALIVE_SECONDS, "timeout_graceful_shutdown": GRACEFUL_STOP_SECONDS,
            "server_header": False, "date_header": False}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m igaming.walletserver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bind", default=DEFAULT_BIND, help=f"host:port to listen on (default {DEFAULT_BIND})")
    parser.add_argument("--no-access-log", action="store_true", help="log no line per request")
    args = parser.parse_args(argv)

    import django
    import uvicorn

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "igaming.settings")
    django.setup()
    uvicorn.run(**uvicorn_options(bind=args.bind, access_log=not args.no_access_log))


if __name__ == "__main__":
    main()
