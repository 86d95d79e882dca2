"""The mock slot: three reels, a seeded RNG, and a paytable scaled to the configured RTP.

The base paytable's winning outcomes keep their multipliers; their probabilities are scaled so that
the expected return of a spin is exactly the RTP, and the rest of the probability is a loss.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from simulators.provider.wallet_client import Result, WalletClient

SYMBOLS = ["🍒", "🍋", "🍊", "🔔", "⭐", "💎", "7"]
# (symbol shown three times, multiplier, base probability)
PAYTABLE = [
    ("🍒", Decimal("0.5"), 0.20),
    ("🍋", Decimal("1"), 0.15),
    ("🍊", Decimal("2"), 0.08),
    ("🔔", Decimal("5"), 0.03),
    ("⭐", Decimal("10"), 0.012),
    ("💎", Decimal("25"), 0.004),
    ("7", Decimal("100"), 0.0008),
]


@dataclass(frozen=True)
class Spin:
    reels: list[str]
    multiplier: Decimal


class Slot:
    def __init__(self, rtp: float, seed: int | str | None = None):
        if not 0 < rtp <= 99.9:
            raise ValueError("RTP is a percentage above 0 and below 100")
        base = sum(float(multiplier) * probability for _, multiplier, probability in PAYTABLE)
        scale = (rtp / 100) / base
        self.table = [(symbol, multiplier, probability * scale) for symbol, multiplier, probability in PAYTABLE]
        if sum(probability for *_, probability in self.table) >= 1:
            raise ValueError("this RTP needs a richer paytable")
        self.rng = random.Random(seed)

    def spin(self) -> Spin:
        draw = self.rng.random()
        for symbol, multiplier, probability in self.table:
            if draw < probability:
                return Spin([symbol] * 3, multiplier)
            draw -= probability
        while True:  # a loss: any three symbols that are not all the same
            reels = [self.rng.choice(SYMBOLS) for _ in range(3)]
            if len(set(reels)) > 1:
                return Spin(reels, Decimal(0))


def win_amount(bet: Decimal, multiplier: Decimal, places: int = 2) -> Decimal:
    return (bet * multiplier).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)


@dataclass
class RoundOutcome:
    round_id: str
    spin: Spin | None
    bet: Result
    win: Result | None
    rollback: Result | None = None

    @property
    def final(self) -> Result:
        return self.rollback or self.win or self.bet


def play_round(client: WalletClient, slot: Slot, *, token: str, bet: Decimal, currency: str,
               combined: bool = False) -> RoundOutcome:
    """One round as a provider plays it: bet, spin, win (0 on a loss), or both in one bet-win call.

    A bet left without any answer is rolled back, so the player never loses money to a lost call.
    """
    round_id = f"r-{uuid.uuid4().hex[:20]}"
    bet_id, win_id = f"b-{uuid.uuid4().hex[:24]}", f"w-{uuid.uuid4().hex[:24]}"
    spin = slot.spin()
    payout = win_amount(bet, spin.multiplier)
    if combined:
        result = client.bet_win(token, bet_transaction_id=bet_id, win_transaction_id=win_id, round_id=round_id,
                                bet_amount=bet, win_amount=payout, currency=currency)
        outcome = RoundOutcome(round_id, spin if result.ok else None, result, result if result.ok else None)
    else:
        placed = client.bet(token, transaction_id=bet_id, round_id=round_id, amount=bet, currency=currency)
        if not placed.ok:
            outcome = RoundOutcome(round_id, None, placed, None)
        else:
            paid = client.win(token, transaction_id=win_id, round_id=round_id, amount=payout, currency=currency)
            outcome = RoundOutcome(round_id, spin, placed, paid)
    if outcome.bet.status == 0:
        outcome.rollback = client.rollback(token, transaction_id=f"rb-{uuid.uuid4().hex[:24]}",
                                           bet_transaction_id=bet_id)
    return outcome
