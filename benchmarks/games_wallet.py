"""Seamless-wallet speed: signed bet and win calls per second from 32 concurrent players, with latency
percentiles, next to pgbench's TPC-B on the same PostgreSQL server in the same run; and one hot player
taking 50 concurrent bets, every one accounted for.

The wallet API is served by the wallet server providers call (igaming/walletserver.py: one event loop,
the fast path on its own PostgreSQL connections) on a free port; the load generator is the provider
simulator's headless mode (`python -m simulators.provider play`), a separate process whose players each
hold a keep-alive connection and sign every request. A bet is: verify the signature, then one statement
(`games_bet_fast_signed`, the fast path of games/services/fast_path.py): spend the request's nonce, lock the
session and the player's accounts, check blocks and limits, write round, idempotency record, ledger
transaction and the CASINO and USER_BALANCES_UPDATE events, commit (synchronous_commit on).
A win is the same without the checks.

Five measurements:
- saturation: the 32 players play as fast as the wallet answers (a closed loop): the most it does;
- paced: the 32 players offer together 25 % of pgbench's TPC-B rate (an open loop, like players pressing
  spin), three times, each run right after a TPC-B measurement of its own that sets its rate: the
  target says the wallet sustains that with p95 <= 20 ms (`paced_target_met`: in all three;
  `paced_target_met_runs`: in how many; `paced_*` are the run with the median p95, with its own TPC-B
  in `paced_pgbench_tpcb_tps`; `paced_p95_worst` the worst);
- within target: the highest paced rate found whose p95 stays within 20 ms (the saturation rate, else
  halving the interval between 30 % and 100 % of it four times): what the wallet sustains at the
  target latency;
- bet-win: the saturation run again, each round settled by one bet-win call (rounds per second);
- hot player: 50 concurrent bets (and their wins) on one player; the books are checked after.

Each load phase also reports the machine's CPU time per call (`*_cpu_per_call`, all processes, all cores)
the share of all cores busy (`*_machine_busy`) and the share a virtual machine's hypervisor gave to
other guests (`*_machine_stolen`: the machine's speed moving); the paced phase splits the CPU per call among
PostgreSQL, the wallet server, the load generator and Redis (`paced_cpu_per_call_<group>`, benchmarks/_cpu.py;
the wallet server's group is called `web`):
on one machine they share the cores, and how busy they keep them sets the latency.

TPC-B runs first (`pgbench_tpcb_tps`, the reference of the saturation and within-target ratios), before
each paced run, and again at the end (`pgbench_tpcb_tps_at_end`): the machine's speed moves by a third
from minute to minute, and the measurements show how much it moved during the run.

Env: BENCH_GAMES_SECONDS (length of each load phase, default 10), BENCH_PGBENCH_SECONDS (default 10);
the wallet server's own WALLET_SERVER_DB_CONNECTIONS and WALLET_SERVER_THREADS apply.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path

from django.db.models import Sum

from benchmarks._cpu import GROUPS, CpuMeter, cpu_per_call
from benchmarks._pgbench import pgbench_tps
from benchmarks.common import Figure, free_port, log, wallet_server

ROOT = Path(__file__).resolve().parent.parent
PLAYERS = 32
HOT_BETS = 50
VENDOR = "bench-games"
TARGET_SHARE = 0.25
TARGET_P95_MS = 20.0
# The paced phase runs this many times: the machine's speed moves from minute to minute, and "sustains"
# means every time, not once.
PACED_REPEATS = 3
LOWEST_SHARE_OF_SATURATION = 0.3
HALVINGS = 4


def run() -> list[Figure]:
    seconds = float(os.environ.get("BENCH_GAMES_SECONDS", "10"))
    secret = secrets.token_urlsafe(24)
    game = _bench_game()
    players = _bench_players(PLAYERS + 1)
    figures: list[Figure] = []

    tps = pgbench_tps(os.environ["DATABASE_URL"], clients=PLAYERS)
    figures.append(("games_wallet.pgbench_tpcb_tps", round(tps, 1), "tx/s"))

    port = free_port()
    server = _wallet_server(port, secret)
    try:
        wallet_url = f"http://127.0.0.1:{port}/wallet-api/v1"
        load = _Load(wallet_url, secret, CpuMeter(server.pid))

        tokens = _sessions(players[:PLAYERS], game)
        load.play(tokens, rounds=3)  # warm-up: connections, caches, plans
        probe = load.play(tokens, rounds=5)
        rounds = max(5, int(probe["ops_per_second"] * seconds / (2 * PLAYERS)))
        log(f"bench: saturation, {PLAYERS} players x {rounds} rounds (bet + win)")
        saturated = load.play(tokens, rounds=rounds)
        figures += _load_figures("saturation", saturated)
        figures.append(("games_wallet.saturation_vs_pgbench", round(saturated["ops_per_second"] / tps, 3), "ratio"))

        paced = paced_summary(_paced_runs(load, tokens, saturated["ops_per_second"], seconds))
        typical = paced["typical"]
        figures += _load_figures("paced", typical)
        figures += _cpu_split_figures("paced", typical)
        figures.append(("games_wallet.paced_pgbench_tpcb_tps", round(typical["pgbench_tpcb_tps"], 1), "tx/s"))
        figures.append(("games_wallet.paced_offered", typical["offered"], "ops/s"))
        figures.append(("games_wallet.paced_vs_pgbench",
                        round(typical["ops_per_second"] / typical["pgbench_tpcb_tps"], 3), "ratio"))
        figures.append(("games_wallet.paced_p95_worst", paced["worst_p95_ms"], "ms"))
        figures.append(("games_wallet.paced_target_met_runs", paced["met_runs"], f"of {PACED_REPEATS}"))
        figures.append(("games_wallet.paced_target_met", int(paced["met"]), "1=yes"))

        sustained = _highest_rate_within_target(load, tokens, saturated["ops_per_second"], seconds)
        figures += _load_figures("within_p95_target", sustained)
        figures.append(("games_wallet.within_p95_target_vs_pgbench", round(sustained["ops_per_second"] / tps, 3),
                        "ratio"))

        # The same rounds settled by one bet-win call each: a round is one request instead of two.
        rounds = max(5, int(saturated["ops_per_second"] * seconds / PLAYERS))
        log(f"bench: bet-win calls, {PLAYERS} players x {rounds} rounds")
        combined = load.play(tokens, rounds=rounds, combined=True)
        figures += [("games_wallet.betwin_rounds_per_second", combined["ops_per_second"], "rounds/s"),
                    ("games_wallet.betwin_p95", combined["p95_ms"], "ms")]

        figures += _hot_player(load, players[PLAYERS], game)
    finally:
        server.terminate()
        server.wait(timeout=30)
    # TPC-B again at the end: how far the machine's own speed moved during the run (the ratios above are
    # to the first measurement, which set the paced rate).
    figures.append(("games_wallet.pgbench_tpcb_tps_at_end", round(pgbench_tps(os.environ["DATABASE_URL"],
                                                                           clients=PLAYERS), 1), "tx/s"))
    return figures


def _paced_runs(load: _Load, tokens: list[str], saturation: float, seconds: float) -> list[dict]:
    """PACED_REPEATS runs, each offered 25 % of a TPC-B measurement taken just before it.

    The machine's speed moves from minute to minute (TPC-B 2,000 to 3,400 tx/s on the bench machine), so
    a rate set once at the start judged the later runs against another minute's machine: each run is
    measured against its own.
    """
    runs = []
    for repeat in range(1, PACED_REPEATS + 1):
        tps = pgbench_tps(os.environ["DATABASE_URL"], clients=PLAYERS)
        offered = round(TARGET_SHARE * tps, 1)
        # As many rounds as the wallet can play in the phase's time: an offered rate above what it
        # sustains would otherwise stretch the phase for minutes without telling more.
        rounds = max(5, int(min(offered, 1.2 * saturation) * seconds / (2 * PLAYERS)))
        log(f"bench: paced at {offered} ops/s (25 % of TPC-B {tps:.0f} tx/s), {PLAYERS} players x {rounds} "
            f"rounds ({repeat} of {PACED_REPEATS})")
        run = load.play(tokens, rounds=rounds, rate=offered)
        log(f"bench:   -> {run['ops_per_second']} ops/s, p95 {run['p95_ms']} ms")
        runs.append({**run, "pgbench_tpcb_tps": tps, "offered": offered})
    return runs


def paced_summary(runs: list[dict]) -> dict:
    """The paced runs at the target's rate summed up: the typical one (the median p95; its figures stand
    for the phase), the worst p95, how many met the target (answered what they were offered, within
    5 %, with p95 <= 20 ms), and whether the wallet sustained the rate, that is met it in every run."""
    met_runs = sum(1 for run in runs
                   if run["ops_per_second"] >= 0.95 * run["offered"] and run["p95_ms"] <= TARGET_P95_MS)
    by_p95 = sorted(runs, key=lambda run: run["p95_ms"])
    return {"typical": by_p95[(len(by_p95) - 1) // 2], "worst_p95_ms": by_p95[-1]["p95_ms"], "met_runs": met_runs,
            "met": met_runs == len(runs)}


def _highest_rate_within_target(load: _Load, tokens: list[str], saturation: float, seconds: float) -> dict:
    """The run at the highest paced rate found whose p95 stays within 20 ms: the saturation rate if it
    does, else halving the interval between 30 % and 100 % of it HALVINGS times (to within about 4 %
    of the saturation rate); the 30 % run when none does."""

    def paced(share: float) -> dict:
        rate = round(share * saturation, 1)
        rounds = max(5, int(rate * seconds / (2 * PLAYERS)))
        log(f"bench: paced at {rate} ops/s ({share:.0%} of saturation), {PLAYERS} players x {rounds} rounds")
        run = load.play(tokens, rounds=rounds, rate=rate)
        log(f"bench:   -> {run['ops_per_second']} ops/s, p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms")
        return run

    best = paced(1.0)
    if best["p95_ms"] <= TARGET_P95_MS:
        return best
    low, high, best = LOWEST_SHARE_OF_SATURATION, 1.0, None
    for _ in range(HALVINGS):
        share = (low + high) / 2
        run = paced(share)
        if run["p95_ms"] <= TARGET_P95_MS:
            low, best = share, run
        else:
            high = share
    return best or paced(LOWEST_SHARE_OF_SATURATION)


# --- setup ---------------------------------------------------------------------------------------


def _bench_game():
    from games.models import Game, Vendor

    vendor, _ = Vendor.objects.update_or_create(code=VENDOR, defaults={
        "name": "Bench Games", "launch_url": "http://127.0.0.1:9/game", "enabled": True})
    game, _ = Game.objects.update_or_create(vendor=vendor, code="bench-slot", defaults={
        "name": "Bench Slot", "rtp": Decimal("96.00"), "enabled": True, "restricted_countries": []})
    return game


def _bench_players(count: int) -> list:
    """Players with plenty of real money, deposited through the wallet's own payment services."""
    from datetime import date

    from players.models import Brand, Player
    from wallet.selectors import wallet_balance
    from wallet.services.payments import deposit_approve, deposit_request

    brand, _ = Brand.objects.get_or_create(code="bench-games", defaults={"name": "Bench", "origin": "bench.example"})
    players = list(Player.objects.filter(brand=brand).order_by("pk")[:count])
    for n in range(len(players), count):
        players.append(Player.objects.create(
            brand=brand, username=f"bench-games-{n}", email=f"bench-games-{n}@bench.example", password="!",
            birth_date=date(1990, 1, 1), country="MT", currency="EUR", language="en", origin=brand.origin))
    for player in players:
        if wallet_balance(player).real_money < 5000:
            payment = deposit_request(player=player, amount="50000.00", currency="EUR",
                                      external_id=f"bench-{uuid.uuid4().hex}").payment
            deposit_approve(payment_id=payment.pk, psp_reference=f"bench-{payment.pk}", amount="50000.00",
                            currency="EUR")
    return players


def _sessions(players: list, game) -> list[str]:
    from games.services.sessions import game_launch

    return [game_launch(player=player, game_id=game.pk).token for player in players]


def _wallet_server(port: int, secret: str):
    """The wallet server with igaming/walletserver.py's settings (the environment's WALLET_SERVER_* apply)."""
    env = {**os.environ, "GAME_PROVIDER_SECRETS": json.dumps({VENDOR: secret}), "DEBUG": "0", "LOG_LEVEL": "WARNING"}
    overrides = {name: env[name] for name in ("WALLET_SERVER_DB_CONNECTIONS", "WALLET_SERVER_THREADS") if env.get(name)}
    log(f"bench: wallet server (igaming/walletserver.py{': ' if overrides else ''}"
        f"{', '.join(f'{name}={value}' for name, value in overrides.items())}), port {port}")
    return wallet_server(port, env)


# --- the load generator: the provider simulator ------------------------------------------------------


class _Load:
    def __init__(self, wallet_url: str, secret: str, meter: CpuMeter):
        self.wallet_url, self.secret, self.meter = wallet_url, secret, meter

    def play(self, tokens: list[str], *, rounds: int, rate: float = 0.0, combined: bool = False) -> dict:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump(tokens, handle)
        try:
            command = [sys.executable, "-m", "simulators.provider", "play", "--tokens-file", handle.name,
                       "--rounds", str(rounds), "--wallet-url", self.wallet_url, "--vendor", VENDOR,
                       "--secret", self.secret, "--bet", "1.00", "--currency", "EUR", "--timeout", "30"]
            if rate:
                command += ["--rate", str(rate)]
            if combined:
                command.append("--combined")
            before = self.meter.sample()
            output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=900).stdout
            after = self.meter.sample()
        finally:
            os.unlink(handle.name)
        summary = json.loads(output.strip().splitlines()[-1])
        summary["cpu"] = cpu_per_call(before, after, calls=summary["operations"])
        refused = {code: count for code, count in summary["codes"].items() if code != "OK"}
        if refused:
            raise RuntimeError(f"the wallet refused calls during the load: {refused}")
        return summary


def _load_figures(phase: str, summary: dict) -> list[Figure]:
    figures = [
        (f"games_wallet.{phase}_ops_per_second", summary["ops_per_second"], "ops/s"),
        (f"games_wallet.{phase}_p50", summary["p50_ms"], "ms"),
        (f"games_wallet.{phase}_p95", summary["p95_ms"], "ms"),
        (f"games_wallet.{phase}_p99", summary["p99_ms"], "ms"),
    ]
    if cpu := summary["cpu"]:
        figures += [(f"games_wallet.{phase}_cpu_per_call", round(cpu["machine"], 3), "ms"),
                    (f"games_wallet.{phase}_machine_busy", round(cpu["machine_busy"], 3), "share of all cores"),
                    (f"games_wallet.{phase}_machine_stolen", round(cpu["machine_stolen"], 3), "share of all cores")]
    return figures


def _cpu_split_figures(phase: str, summary: dict) -> list[Figure]:
    """The phase's CPU per call by process group: PostgreSQL, the wallet server ("web"), the load generator, Redis."""
    if not (cpu := summary["cpu"]):
        return []
    return [(f"games_wallet.{phase}_cpu_per_call_{group}", round(cpu[group], 3), "ms") for group in GROUPS]


# --- one hot player ----------------------------------------------------------------------------------


def _hot_player(load: _Load, player, game) -> list[Figure]:
    """50 concurrent rounds on one player's session (50 bets at once, then their wins); check the books."""
    from games.models import GameTransaction, TransactionKind
    from wallet.selectors import wallet_balance

    before = wallet_balance(player)
    [token] = _sessions([player], game)
    log(f"bench: one hot player, {HOT_BETS} concurrent bets")
    summary = load.play([token] * HOT_BETS, rounds=1)
    after = wallet_balance(player)
    calls = GameTransaction.objects.filter(player=player, session__token_hash=_hash(token))
    bets = calls.filter(kind=TransactionKind.BET).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    wins = calls.filter(kind=TransactionKind.WIN).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    accepted = calls.filter(kind=TransactionKind.BET).count()
    exact = (before.real_money + before.bonus_money - bets + wins == after.real_money + after.bonus_money)
    if accepted != HOT_BETS or not exact or not _ledger_matches(player):
        raise RuntimeError(f"hot player: {accepted} of {HOT_BETS} bets booked, balance exact: {exact}")
    return [("games_wallet.hot_player_bets_booked", accepted, f"of {HOT_BETS}"),
            ("games_wallet.hot_player_balance_exact", int(exact), "1=yes"),
            ("games_wallet.hot_player_p95", summary["p95_ms"], "ms")]


def _hash(token: str) -> str:
    from games.selectors import token_hash

    return token_hash(token)


def _ledger_matches(player) -> bool:
    from wallet.models import Account, Entry

    return all(account.balance == (Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or 0)
               for account in Account.objects.filter(player=player))


