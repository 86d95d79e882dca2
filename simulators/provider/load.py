"""Headless play: M players play N rounds each, concurrently, through the signed wallet API.

`make bench` uses this as its load generator. Each player is a thread with its own keep-alive
connection; with `rate` set, the players pace their calls so that together they offer that many
wallet operations per second (an open-loop load, like real players pressing spin), otherwise each
plays as fast as the wallet answers (a closed loop: the wallet's saturation throughput).
Prints one JSON summary: operations, rate, latency percentiles, refusals by code, retries.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from decimal import Decimal

from simulators.provider.slot import Slot, play_round
from simulators.provider.wallet_client import WalletClient


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return 0.0
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class _Player(threading.Thread):
    def __init__(self, *, index: int, token: str, rounds: int, options: dict, start_at: float):
        super().__init__(daemon=True)
        self.token, self.rounds, self.options, self.start_at = token, rounds, options, start_at
        self.client = WalletClient(options["wallet_url"], vendor=options["vendor"], secret=options["secret"],
                                   timeout=options["timeout"])
        self.slot = Slot(options["rtp"], seed=f"{options['seed']}:{index}")
        self.latencies: list[float] = []
        self.codes: Counter = Counter()
        self.operations = 0
        # Seconds between this player's rounds when paced (each round is 2 calls, or 1 when combined).
        per_round = 1 if options["combined"] else 2
        self.interval = per_round * options["players"] / options["rate"] if options["rate"] else 0.0

    def run(self):
        next_at = self.start_at
        for _ in range(self.rounds):
            if self.interval:
                pause = next_at - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                next_at += self.interval
            outcome = play_round(self.client, self.slot, token=self.token, bet=self.options["bet"],
                                 currency=self.options["currency"], combined=self.options["combined"])
            # A bet-win call is one operation: its answer stands for both the bet and the win.
            calls = [outcome.bet] if self.options["combined"] else [outcome.bet, outcome.win]
            for result in (*calls, outcome.rollback):
                if result is None:
                    continue
                self.operations += 1
                self.codes[result.code] += 1
                self.latencies.append(result.latency_ms)
        self.client.close()


def run_load(*, wallet_url: str, vendor: str, secret: str, tokens: list[str], rounds: int, bet: Decimal,
             currency: str, rate: float = 0.0, combined: bool = False, rtp: float = 96.0, seed: int = 0,
             timeout: float = 10.0) -> dict:
    options = {"wallet_url": wallet_url, "vendor": vendor, "secret": secret, "players": len(tokens), "rate": rate,
               "combined": combined, "rtp": rtp, "seed": seed, "bet": bet, "currency": currency, "timeout": timeout}
    start_at = time.perf_counter() + 0.2
    # Paced players start spread over one round's interval, so that together they arrive evenly, as
    # unsynchronised people do, instead of in bursts of one call each at the same instant.
    per_round = 1 if combined else 2
    spread = (per_round * len(tokens) / rate) / len(tokens) if rate else 0.001
    players = [_Player(index=index, token=token, rounds=rounds, options=options, start_at=start_at + index * spread)
               for index, token in enumerate(tokens)]
    for player in players:
        player.start()
    for player in players:
        player.join()
    elapsed = time.perf_counter() - start_at
    latencies = sorted(latency for player in players for latency in player.latencies)
    codes = sum((player.codes for player in players), Counter())
    operations = sum(player.operations for player in players)
    return {
        "players": len(tokens), "rounds": rounds * len(tokens), "operations": operations,
        "seconds": round(elapsed, 3), "ops_per_second": round(operations / elapsed, 1) if elapsed > 0 else 0.0,
        "offered_rate": rate or None, "combined": combined,
        "p50_ms": round(percentile(latencies, 50), 2), "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2), "max_ms": round(latencies[-1], 2) if latencies else 0.0,
        "codes": dict(codes), "retries": sum(player.client.retries for player in players),
    }
