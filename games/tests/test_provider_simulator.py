"""The provider simulator, a real process, playing through the platform's signed wallet API (a live server)."""

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from django.conf import settings

from games.models import GameRound, GameTransaction, RoundStatus, TransactionKind
from games.tests.factories import VENDOR_CODE, VENDOR_SECRET, GameFactory, VendorFactory, fund, launch
from players.tests.factories import BrandFactory, PlayerFactory
from wallet.models import Account, AccountKind

pytestmark = pytest.mark.django_db(transaction=True)


def simulator_command(live_server, *args: str) -> list[str]:
    return [sys.executable, "-m", "simulators.provider", *args, "--wallet-url", f"{live_server.url}/wallet-api/v1",
            "--vendor", VENDOR_CODE, "--secret", VENDOR_SECRET]


@pytest.fixture
def simulator(live_server):
    """The simulator serving its slot page on a free port, with half of the wallet's answers 'lost'."""
    process = subprocess.Popen(simulator_command(live_server, "--port", "0", "--drop-rate", "0.5", "--seed", "7"),
                               cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("listening on "), line
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        process.wait(timeout=10)


def fetch(url: str, payload: dict | None = None):
    data = json.dumps(payload).encode() if payload is not None else None
    request = Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    with urlopen(request, timeout=30) as response:
        body = response.read().decode()
        return json.loads(body) if response.headers.get_content_type() == "application/json" else body


@pytest.fixture
def player_session():
    player = PlayerFactory(brand=BrandFactory())
    fund(player, real="20.00", bonus="5.00")
    game = GameFactory(vendor=VendorFactory(), name="Lucky Test")
    session, token = launch(player, game)
    return player, session, token


def total_balance(player) -> Decimal:
    return sum(Account.objects.filter(player=player, kind__in=[AccountKind.REAL, AccountKind.BONUS])
               .values_list("balance", flat=True), Decimal(0))


def test_a_player_spins_the_mock_slot_and_every_round_is_booked_once_despite_lost_answers(simulator, player_session):
    player, session, token = player_session
    page = fetch(f"{simulator}/game?token={token}&game={session.game.code}&lobby=/lobby")
    assert "SPIN" in page and session.game.code.replace("-", " ").title() in page

    opened = fetch(f"{simulator}/api/session", {"token": token})
    assert opened["ok"] is True and opened["wallet"]["balance"] == "25.00"

    spins = [fetch(f"{simulator}/api/spin", {"token": token, "bet": "1.00"}) for _ in range(6)]

    assert all(spin["ok"] for spin in spins), spins
    won = sum(Decimal(spin["win"]) for spin in spins)
    assert Decimal(spins[-1]["wallet"]["balance"]) == Decimal("25.00") - 6 + won == total_balance(player)
    assert sum(spin["retries"] for spin in spins) > 0  # answers were dropped, the same transactions resent
    assert GameTransaction.objects.filter(player=player, kind=TransactionKind.BET).count() == 6
    assert GameTransaction.objects.filter(player=player, kind=TransactionKind.WIN).count() == 6
    assert not GameRound.objects.filter(player=player).exclude(status=RoundStatus.CLOSED).exists()
    stats = fetch(f"{simulator}/api/stats")
    assert stats["rounds"] == 6 and stats["retries"] == sum(spin["retries"] for spin in spins)


def test_the_slot_refuses_a_spin_the_balance_cannot_pay(simulator, player_session):
    player, _, token = player_session
    refused = fetch(f"{simulator}/api/spin", {"token": token, "bet": "50.00"})
    assert refused["ok"] is False and refused["wallet"]["code"] == "INSUFFICIENT_FUNDS"
    assert total_balance(player) == Decimal("25.00")


def test_headless_play_runs_players_concurrently_and_reports_the_figures(live_server, tmp_path: Path):
    game = GameFactory(vendor=VendorFactory())
    players, tokens = [], []
    for _ in range(3):
        player = PlayerFactory(brand=BrandFactory())
        fund(player, real="100.00")
        players.append(player)
        tokens.append(launch(player, game)[1])
    tokens_file = tmp_path / "tokens.json"
    tokens_file.write_text(json.dumps(tokens))

    for extra in ([], ["--combined"]):
        output = subprocess.run(
            simulator_command(live_server, "play", "--tokens-file", str(tokens_file), "--rounds", "4", *extra),
            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120, check=True).stdout
        summary = json.loads(output)
        assert summary["players"] == 3 and summary["rounds"] == 12
        assert summary["codes"] == {"OK": summary["operations"]}
        assert summary["operations"] == (12 if extra else 24)
        assert 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]

    assert GameTransaction.objects.filter(kind=TransactionKind.BET).count() == 24
    for player in players:
        bets = sum(GameTransaction.objects.filter(player=player, kind=TransactionKind.BET).values_list("amount",
                                                                                                       flat=True))
        wins = sum(GameTransaction.objects.filter(player=player, kind=TransactionKind.WIN).values_list("amount",
                                                                                                       flat=True))
        assert total_balance(player) == Decimal("100.00") - bets + wins
