"""The money side of game play: bets from real then bonus money, wins to real money, exact refunds."""

from decimal import Decimal

import pytest
from django.db import transaction

from crm.models import EventType, OutboxEvent
from games.tests.factories import fund
from wallet.exceptions import AlreadyReversed, InsufficientFunds
from wallet.models import Account, AccountKind, Entry, LedgerTransaction, TransactionSource
from wallet.services import game_play

pytestmark = pytest.mark.django_db


def balances(player) -> tuple[Decimal, Decimal]:
    rows = dict(Account.objects.filter(player=player).values_list("kind", "balance"))
    return rows.get(AccountKind.REAL, Decimal(0)), rows.get(AccountKind.BONUS, Decimal(0))


def house() -> Decimal:
    """Game settlement's balance: the sum of its shards."""
    rows = Account.objects.filter(player__isnull=True, kind=AccountKind.GAME_SETTLEMENT, currency="EUR")
    return sum((row.balance for row in rows), Decimal(0))


def bet(player, amount: str, external_id: str = "v:b1"):
    with transaction.atomic():
        accounts = game_play.game_accounts_lock(player=player, currency="EUR")
        movement = game_play.bet_split(accounts, Decimal(amount))
        game_play.game_bet_post(accounts=accounts, movement=movement, external_id=external_id)
    return movement


def test_a_bet_takes_real_money_first_then_bonus_money_into_game_settlement(player):
    fund(player, real="3.00", bonus="4.00")
    movement = bet(player, "5.00")
    assert (movement.real, movement.bonus, movement.balance_before) == (Decimal("3"), Decimal("2"), Decimal("7"))
    assert balances(player) == (Decimal("0"), Decimal("2.00"))
    assert house() == Decimal("5.00")
    posted = LedgerTransaction.objects.get(source=TransactionSource.GAMES, external_id="v:b1")
    assert posted.kind == game_play.GAME_BET and posted.player == player
    assert sorted(Entry.objects.filter(transaction=posted).values_list("amount", flat=True)) == [
        Decimal("-3"), Decimal("-2"), Decimal("5")]


def test_a_bet_above_real_plus_bonus_money_is_refused_before_anything_is_booked(player):
    fund(player, real="3.00", bonus="1.00")
    with pytest.raises(InsufficientFunds):
        bet(player, "4.01")
    assert balances(player) == (Decimal("3.00"), Decimal("1.00"))
    assert not LedgerTransaction.objects.filter(source=TransactionSource.GAMES).exists()


def test_every_game_posting_emits_the_players_balances(player):
    fund(player, real="10.00")
    before = OutboxEvent.objects.filter(event_type=EventType.USER_BALANCES_UPDATE).count()
    bet(player, "2.50")
    event = OutboxEvent.objects.filter(event_type=EventType.USER_BALANCES_UPDATE).order_by("id").last()
    assert OutboxEvent.objects.filter(event_type=EventType.USER_BALANCES_UPDATE).count() == before + 1
    assert [(item["key"], item["amount"]) for item in event.payload["balances"]] == [
        ("real_money", 7.5), ("bonus_money", 0)]


def test_a_win_is_paid_into_real_money_from_game_settlement(player):
    fund(player, real="1.00", bonus="1.00")
    bet(player, "2.00")
    with transaction.atomic():
        accounts = game_play.game_accounts_lock(player=player, currency="EUR")
        game_play.game_win_post(accounts=accounts, movement=game_play.win_split(accounts, Decimal("6.00")),
                                external_id="v:w1")
    assert balances(player) == (Decimal("6.00"), Decimal("0"))
    assert house() == Decimal("-4.00")  # the house lost this round: it may go below zero, players may not


def test_a_refund_gives_each_part_back_to_its_account_and_only_once(player):
    fund(player, real="3.00", bonus="4.00")
    bet(player, "5.00")
    with transaction.atomic():
        accounts = game_play.game_accounts_lock(player=player, currency="EUR")
        refund = game_play.game_bet_refund_plan(accounts=accounts, bet_external_id="v:b1")
        assert (refund.movement.real, refund.movement.bonus) == (Decimal("3"), Decimal("2"))
        game_play.game_bet_refund_post(accounts=accounts, refund=refund, external_id="v:rb1")
    assert balances(player) == (Decimal("3.00"), Decimal("4.00")) and house() == 0
    assert LedgerTransaction.objects.get(external_id="v:rb1").reverses.external_id == "v:b1"
    with pytest.raises(AlreadyReversed), transaction.atomic():
        accounts = game_play.game_accounts_lock(player=player, currency="EUR")
        again = game_play.game_bet_refund_plan(accounts=accounts, bet_external_id="v:b1")
        game_play.game_bet_refund_post(accounts=accounts, refund=again, external_id="v:rb2")
    assert balances(player) == (Decimal("3.00"), Decimal("4.00"))


def test_the_balances_read_without_a_lock_are_the_committed_ones(player):
    assert game_play.game_balances(player=player, currency="EUR") == (Decimal(0), Decimal(0))
    fund(player, real="2.00", bonus="0.50")
    assert game_play.game_balances(player=player, currency="EUR") == (Decimal("2.00"), Decimal("0.50"))

