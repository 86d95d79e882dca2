"""Run the PSP simulator: `python -m simulators.psp --port 8300 --platform-url http://127.0.0.1:8000 --secret S`.

The secret may also come from --secret-file or the env (PSP_SIM_SECRET, else PSP_WEBHOOK_SECRET), so it
need not be on the command line. Port 0 picks a free port; the first line printed is
`listening on http://HOST:PORT`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from simulators.psp.server import MODES, Psp, make_server


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.psp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("PSP_SIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PSP_SIM_PORT", "8300")))
    parser.add_argument("--platform-url", default=os.environ.get("PSP_SIM_PLATFORM_URL", ""),
                        help="base URL of the platform that receives the webhooks")
    parser.add_argument("--webhook-path", default="/api/v1/psp/webhook")
    parser.add_argument("--secret", default=None, help="the HMAC secret shared with the platform")
    parser.add_argument("--secret-file", default=os.environ.get("PSP_SIM_SECRET_FILE"),
                        help="a file holding the secret (the platform writes .data/psp_webhook_secret)")
    parser.add_argument("--mode", choices=MODES, default=os.environ.get("PSP_SIM_MODE", "approve"))
    parser.add_argument("--hang-seconds", type=float, default=30.0, help="how long a payout hangs in timeout mode")
    parser.add_argument("--log-level", default=os.environ.get("PSP_SIM_LOG_LEVEL", "INFO"))
    args = parser.parse_args(argv)
    if args.secret is None and args.secret_file and Path(args.secret_file).exists():
        args.secret = Path(args.secret_file).read_text().strip()
    if args.secret is None:
        args.secret = os.environ.get("PSP_SIM_SECRET") or os.environ.get("PSP_WEBHOOK_SECRET", "")
    return args


def _stop(*_args) -> None:
    raise KeyboardInterrupt


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        psp = Psp(platform_url=args.platform_url, webhook_path=args.webhook_path, secret=args.secret,
                  mode=args.mode, hang_seconds=args.hang_seconds)
    except ValueError as error:
        print(f"psp simulator: {error}", file=sys.stderr)
        return 2
    server = make_server(psp, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
