"""Run the game provider simulator.

    python -m simulators.provider --port 8200 --wallet-url http://127.0.0.1:8000/wallet-api/v1
    python -m simulators.provider play --tokens-file tokens.json --rounds 100 [--rate 400] [--combined]

`serve` (the default) serves the mock slot page on --port (0 picks a free one; the first line printed
is `listening on http://HOST:PORT`). `play` is the headless load generator: one player per session
token, printing a JSON summary. The vendor secret comes from --secret, PROVIDER_SECRET, or
--secret-file (default .data/provider_secret_demo, which the platform's settings create on a
developer machine). Every option has an environment variable PROVIDER_SIM_<OPTION>.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import time
from decimal import Decimal
from pathlib import Path


def _env(name: str, default: str = "") -> str:
    return os.environ.get(f"PROVIDER_SIM_{name}", default)


def read_secret(args) -> str:
    if args.secret:
        return args.secret
    if os.environ.get("PROVIDER_SECRET"):
        return os.environ["PROVIDER_SECRET"]
    path = Path(args.secret_file)
    for _ in range(50):  # `make run` starts the platform (which creates the dev secret) at the same moment
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.2)
    sys.exit(f"no vendor secret: pass --secret, set PROVIDER_SECRET, or create {path}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulators.provider", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", choices=["serve", "play"], default="serve")
    parser.add_argument("--wallet-url", default=_env("WALLET_URL", "http://127.0.0.1:8000/wallet-api/v1"))
    parser.add_argument("--vendor", default=_env("VENDOR", "demo"))
    parser.add_argument("--secret", default=_env("SECRET") or None)
    parser.add_argument("--secret-file", default=_env("SECRET_FILE", ".data/provider_secret_demo"))
    parser.add_argument("--rtp", type=float, default=float(_env("RTP", "96")), help="return to player, percent")
    parser.add_argument("--seed", type=int, default=int(_env("SEED", "0")), help="seed of the RNG")
    parser.add_argument("--combined", action="store_true", default=_env("COMBINED") == "1",
                        help="settle each round with one bet-win call instead of bet then win")
    parser.add_argument("--timeout", type=float, default=float(_env("TIMEOUT", "5")),
                        help="seconds before a wallet call is retried with the same transaction")
    # serve
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("PORT", "8200")))
    parser.add_argument("--drop-rate", type=float, default=float(_env("DROP_RATE", "0")),
                        help="share of wallet answers treated as lost, to show retries (0..1)")
    # play
    parser.add_argument("--tokens-file", help="JSON list of session tokens (play)")
    parser.add_argument("--players", type=int, default=0, help="play with the first M tokens (default: all)")
    parser.add_argument("--rounds", type=int, default=100, help="rounds per player (play)")
    parser.add_argument("--bet", default="1.00")
    parser.add_argument("--currency", default="EUR")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="wallet operations per second offered by all players together (0: as fast as answered)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    secret = read_secret(args)
    if args.mode == "play":
        from simulators.provider.load import run_load

        tokens = json.loads(Path(args.tokens_file).read_text())
        if args.players:
            tokens = tokens[:args.players]
        # This process only plays: what is loaded lives as long as it does. Out of the cyclic collector's
        # reach, a full collection (which stops every player's thread) adds no pause to the latencies.
        gc.freeze()
        summary = run_load(wallet_url=args.wallet_url, vendor=args.vendor, secret=secret, tokens=tokens,
                           rounds=args.rounds, bet=Decimal(args.bet), currency=args.currency, rate=args.rate,
                           combined=args.combined, rtp=args.rtp, seed=args.seed, timeout=args.timeout)
        print(json.dumps(summary), flush=True)
        return 0

    from simulators.provider.server import Provider, make_server

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    provider = Provider(wallet_url=args.wallet_url, vendor=args.vendor, secret=secret, rtp=args.rtp, seed=args.seed,
                        combined=args.combined, drop_rate=args.drop_rate, timeout=args.timeout)
    server = make_server(provider, args.host, args.port)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
