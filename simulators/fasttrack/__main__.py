"""Run the Fast Track simulator: `python -m simulators.fasttrack --port 8100 --platform-url http://127.0.0.1:8000`.

Every option has an environment variable (FT_SIM_*), so that secrets need not be on the command line.
Port 0 picks a free port; the first line printed is `listening on http://HOST:PORT`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys

from simulators.fasttrack.callbacks import AUTH_SCHEMES, CallbackDispatcher, OperatorClient, credentials_from_env
from simulators.fasttrack.server import Simulator, make_server
from simulators.fasttrack.storage import Store


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"FT_SIM_{name}", default)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.fasttrack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("PORT", "8100")))
    parser.add_argument("--platform-url", default=_env("PLATFORM_URL"),
                        help="base URL of the platform whose Operator API is called back; empty: no callbacks")
    parser.add_argument("--operator-prefix", default=_env("OPERATOR_PREFIX", "/fasttrack"))
    parser.add_argument("--auth-scheme", choices=AUTH_SCHEMES, default=_env("AUTH_SCHEME", "oauth"),
                        help="how the simulator authenticates to the Operator API")
    parser.add_argument("--client-id", default=None, help="Operator API client id (env FT_SIM_CLIENT_ID)")
    parser.add_argument("--secret", default=None, help="Operator API secret (env FT_SIM_SECRET)")
    parser.add_argument("--credentials-file", default=None,
                        help="file with CLIENT_ID= and SECRET= lines, from `manage.py operator_api_key ensure` "
                             "(env FT_SIM_CREDENTIALS_FILE); re-read when it changes")
    parser.add_argument("--api-key", default=None,
                        help="API key the platform must send with each event (env FT_SIM_API_KEY, else the "
                             "platform's FASTTRACK_API_KEY); empty: no check")
    parser.add_argument("--api-key-header",
                        default=_env("API_KEY_HEADER") or os.environ.get("FASTTRACK_API_KEY_HEADER") or "X-Api-Key")
    parser.add_argument("--callback-workers", type=int, default=int(_env("CALLBACK_WORKERS", "4")))
    parser.add_argument("--callback-delay", type=float, default=float(_env("CALLBACK_DELAY", "0")),
                        help="seconds between an event and its callbacks")
    parser.add_argument("--max-entries", type=int, default=int(_env("MAX_ENTRIES", "200000")))
    parser.add_argument("--log-file", default=_env("LOG_FILE") or None, help="append every entry as a JSON line")
    args = parser.parse_args(argv)
    if args.api_key is None:
        args.api_key = _env("API_KEY") or os.environ.get("FASTTRACK_API_KEY", "")
    return args


def build(args: argparse.Namespace):
    store = Store(max_entries=args.max_entries, log_path=args.log_file)
    client = None
    if args.platform_url:
        client = OperatorClient(base_url=args.platform_url, prefix=args.operator_prefix, auth_scheme=args.auth_scheme,
                                credentials=credentials_from_env(args.client_id, args.secret, args.credentials_file))
    dispatcher = CallbackDispatcher(client=client, store=store, workers=args.callback_workers,
                                    delay=args.callback_delay)
    sim = Simulator(store=store, dispatcher=dispatcher, api_key=args.api_key, api_key_header=args.api_key_header,
                    platform_url=args.platform_url)
    return sim, make_server(sim, args.host, args.port)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args = parse_args(argv)
    sim, server = build(args)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    logging.getLogger("simulators.fasttrack").info(
        "Fast Track simulator: callbacks to %s (%s), API key check %s",
        args.platform_url or "nowhere", args.auth_scheme, "on" if args.api_key else "off")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.5)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
