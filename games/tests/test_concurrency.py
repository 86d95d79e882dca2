"""Concurrent provider calls with real threads against the real database: every cent accounted for."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier

import pytest
from django.db import connection
from django.db.models import Sum

from games import exceptions as errors
from games.models import GameTransaction, TransactionKind
from games.selectors import vendor_for_code
from games.services import fast_path, play
from games.tests.factories import VENDOR_CODE, GameFactory, VendorFactory, fund, launch
from players.tests.factories import BrandFactory, PlayerFactory
from wallet.models import Account, AccountKind, Entry, LedgerTransaction
from wallet.services.ledger import house_account, house_shard

pytestmark = pytest.mark.django_db(transaction=True)


def run_concurrently(calls):
    """Run the calls on one thread each, released together; each thread uses (and closes) its own connection."""
    barrier = Barrier(len(calls))

    def run(call):
        barrier.wait()
        try:
            return call()
        except errors.GamesError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def account(player, kind) -> Decimal:
    return Account.objects.get(player=player, kind=kind).balance


@pytest.fixture(params=["fast path", "python path"])
def hot_player(request, settings, monkeypatch):
    """A player with 30.00 real and 20.00 bonus money in a game session; each test runs once with the bets
    taken by the fast path (the game-settlement shard exists, so the statement can take every bet; the
    bets it booked are listed in the third item) and once with the fast path off. Returns
    (player, token, the fast path's answers or None when it is off)."""
    player = PlayerFactory(brand=BrandFactory())
    fund(player, real="30.00", bonus="20.00")
    game = GameFactory(vendor=VendorFactory())
    session, token = launch(player, game)
    booked = None
    if request.param == "fast path":
        booked = []
        house_account(AccountKind.GAME_SETTLEMENT, "EUR", shard=house_shard(player))
        fast_run = fast_path.fast_run
        monkeypatch.setattr(fast_path, "fast_run", lambda call: _counted(fast_run(call), booked))
    else:
        settings.GAME_WALLET_FAST_PATH = False
    return player, token, booked


def _counted(answer, booked):
    if answer is not None:
        booked.append(answer)  # list.append is atomic under the GIL
    return answer


def test_fifty_concurrent_bets_on_one_player_are_all_accounted_for_and_the_balance_is_exact(hot_player):
    player, token, fast_bets = hot_player
    vendor = vendor_for_code(VENDOR_CODE)

    def bet(index):
        return lambda: play.seamless_bet(vendor=vendor, token=token, transaction_id=f"hot-{index}",
                                         round_id=f"round-{index}", amount="1.30", currency="EUR")

    results = run_concurrently([bet(index) for index in range(50)])

    taken = [result for result in results if isinstance(result, play.Answer)]
    refused = [result for result in results if not isinstance(result, play.Answer)]
    assert len(taken) == 38 and len(refused) == 12  # 38 x 1.30 = 49.40 of 50.00
    assert {error.code for error in refused} == {"INSUFFICIENT_FUNDS"}
    assert account(player, AccountKind.REAL) == Decimal("0") and account(player, AccountKind.BONUS) == Decimal("0.60")
    bets = GameTransaction.objects.filter(player=player, kind=TransactionKind.BET)
    assert bets.count() == 38 and bets.aggregate(total=Sum("amount"))["total"] == Decimal("49.40")
    assert bets.aggregate(real=Sum("real_amount"))["real"] == Decimal("30.00")
    assert {answer.body["transaction_id"] for answer in taken} == set(bets.values_list("external_id", flat=True))
    # The ledger agrees: 38 postings, each balanced, the house holding exactly what the player lost.
    ledger = LedgerTransaction.objects.filter(player=player, source="games")
    assert ledger.count() == 38
    assert Entry.objects.filter(transaction__in=ledger).aggregate(total=Sum("amount"))["total"] == 0
    house = Account.objects.filter(player__isnull=True, kind=AccountKind.GAME_SETTLEMENT, currency="EUR")
    assert sum(row.balance for row in house) == Decimal("49.40")
    # Every cached balance equals the sum of its entries.
    for row in Account.objects.filter(player=player, kind__in=[AccountKind.REAL, AccountKind.BONUS]):
        assert row.balance == (Entry.objects.filter(account=row).aggregate(total=Sum("amount"))["total"] or 0)
    # The answers' balances are a strictly decreasing sequence: each bet saw the one before it.
    balances = sorted(Decimal(answer.body["balance"]) for answer in taken)
    assert len(set(balances)) == 38 and balances[0] == Decimal("0.60")
    assert fast_bets is None or len(fast_bets) == 38  # on the fast path, the statement took every bet


def test_concurrent_retries_of_one_bet_book_it_once_and_all_get_the_same_answer(hot_player):
    player, token, fast_bets = hot_player
    vendor = vendor_for_code(VENDOR_CODE)

    def bet():
        return play.seamless_bet(vendor=vendor, token=token, transaction_id="retried", round_id="r-1", amount="5.00",
                                 currency="EUR")

    results = run_concurrently([bet for _ in range(10)])

    assert all(isinstance(result, play.Answer) for result in results)
    assert all(result.body == results[0].body for result in results)
    assert GameTransaction.objects.filter(external_id="retried").count() == 1
    assert account(player, AccountKind.REAL) == Decimal("25.00")
    assert fast_bets is None or len(fast_bets) == 1  # the statement booked it; nine were answered as retries


def test_a_rollback_racing_its_bet_leaves_either_both_or_neither(hot_player):
    player, token, _ = hot_player
    vendor = vendor_for_code(VENDOR_CODE)
    for index in range(10):
        run_concurrently([
            lambda index=index: play.seamless_bet(vendor=vendor, token=token, transaction_id=f"b-{index}",
                                                  round_id=f"r-{index}", amount="1.00", currency="EUR"),
            lambda index=index: play.seamless_rollback(vendor=vendor, token=token, transaction_id=f"rb-{index}",
                                                       bet_transaction_id=f"b-{index}"),
        ])
    # Whichever came first, no bet is left standing: refunded, or refused because its rollback came first.
    assert account(player, AccountKind.REAL) == Decimal("30.00")
    bets = GameTransaction.objects.filter(kind=TransactionKind.BET).count()
    refunds = GameTransaction.objects.filter(kind=TransactionKind.ROLLBACK).exclude(amount=0).count()
    assert bets == refunds
    assert GameTransaction.objects.filter(kind=TransactionKind.ROLLBACK).count() == 10
