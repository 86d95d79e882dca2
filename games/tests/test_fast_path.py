"""The fast path (games/services/fast_path.py and its SQL) books what the Python path books, and declines
everything else having written nothing, so that the Python path answers it."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from crm.models import OutboxEvent
from games.models import GameRound, GameSession, GameTransaction, SessionStatus
from games.services import fast_path, play
from games.tests.factories import fund, launch
from games.tests.test_hot_sql import BLOCK_CASES, block_create
from players.models import AccountStatus, ActorKind, BlockKind, LimitKind, LimitPeriod, PlayerBlock
from players.services import limits
from players.tests.factories import PlayerFactory
from wallet.models import Account, AccountKind, LedgerTransaction
from wallet.services.ledger import house_account, house_shard

pytestmark = pytest.mark.django_db


def bet_fast(**call) -> dict | None:
    """A bet booked by its fast statement alone (the services check the ids and GAME_WALLET_FAST_PATH
    first): its answer, or None when the statement declines."""
    fast = fast_path.bet_call(**call)
    return None if fast is None else fast_path.fast_run(fast)


def win_fast(**call) -> dict | None:
    fast = fast_path.win_call(**call)
    return None if fast is None else fast_path.fast_run(fast)


def bet_win_fast(**call) -> tuple[dict, dict] | None:
    fast = fast_path.bet_win_call(**call)
    answers = None if fast is None else fast_path.fast_run(fast)
    return None if answers is None else (answers["bet"], answers["win"])


def ready(player, game, *, real="10.00", bonus="5.00"):
    """A funded player with a session, whose game-settlement shard exists (so the fast path can take it)."""
    fund(player, real=real, bonus=bonus)
    house_account(AccountKind.GAME_SETTLEMENT, player.currency, shard=house_shard(player))
    return launch(player, game)


def calls(prefix):
    """A mixed sequence: real money only, a split into real and bonus money, a losing round, a round with
    two bets and two wins, the last win of 0 closing it."""
    return [
        ("bet", f"{prefix}b1", f"{prefix}r1", "3.00", None), ("win", f"{prefix}w1", f"{prefix}r1", "1.50", True),
        ("bet", f"{prefix}b2", f"{prefix}r2", "12.00", None), ("win", f"{prefix}w2", f"{prefix}r2", "0.00", True),
        ("bet", f"{prefix}b3", f"{prefix}r3", "0.25", None), ("bet", f"{prefix}b4", f"{prefix}r3", "0.75", None),
        ("win", f"{prefix}w3", f"{prefix}r3", "2.00", False), ("win", f"{prefix}w4", f"{prefix}r3", "0", True),
    ]


def play_calls(bet, win, vendor, token, sequence, currency="EUR"):
    answers = []
    for kind, tx, round_id, amount, closes in sequence:
        call = {"vendor": vendor, "token": token, "transaction_id": tx, "round_id": round_id, "amount": amount,
                "currency": currency}
        answers.append(bet(**call) if kind == "bet" else win(**call, round_closed=closes))
    return answers


def play_fast(vendor, token, sequence):
    answers = play_calls(bet_fast, win_fast, vendor, token, sequence)
    assert None not in answers, "the fast path declined a call"
    return answers


def play_python(vendor, token, sequence):
    return [answer.body for answer in play_calls(play.seamless_bet, play.seamless_win, vendor, token, sequence)]


def _text(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def books(player, session, prefix):
    """Everything a player's calls wrote, with the player's id and the call ids' prefix taken out. JSON is
    compared as PostgreSQL stores it (jsonb text), so that 1.00 and 1.0 differ."""
    def clean(text):
        text = text.replace(prefix, "").replace(f'"{player.pk}"', '"P"')
        return re.sub(r'"timestamp": "[^"]+"', '"timestamp": "T"', text)

    session = GameSession.objects.get(pk=session.pk)
    transactions = GameTransaction.objects.filter(player=player).order_by("id")
    return {
        "calls": [(row.kind, row.external_id.replace(prefix, ""), row.amount, row.real_amount, row.bonus_amount,
                   row.round.round_id.replace(prefix, ""), row.session_id == session.pk) for row in transactions],
        "answers": [clean(text) for text in _text(
            "SELECT response::text FROM games_gametransaction WHERE player_id = %s ORDER BY id", [player.pk])],
        "rounds": [(row.round_id.replace(prefix, ""), row.status, row.total_bet, row.total_win,
                    row.closed_at is not None) for row in GameRound.objects.filter(player=player).order_by("id")],
        "session": (session.status, session.rounds, session.total_bet, session.total_win,
                    session.expires_at - session.last_activity_at),
        "ledger": [(row.kind, row.source, row.external_id.replace(prefix, ""), row.amount, row.currency,
                    [(entry.account.kind, entry.amount, entry.balance_after, entry.currency)
                     for entry in row.entries.select_related("account").order_by("id")])
                   for row in LedgerTransaction.objects.filter(player=player, source="games").order_by("id")],
        "balances": dict(Account.objects.filter(player=player).values_list("kind", "balance")),
        "events": [(event_type, clean(payload)) for event_type, payload in zip(
            OutboxEvent.objects.filter(player_id=player.pk).order_by("id").values_list("event_type", flat=True),
            _text("SELECT payload::text FROM crm_outboxevent WHERE player_id = %s ORDER BY id", [player.pk]),
            strict=True)],
    }


def test_the_fast_path_books_exactly_what_the_python_path_books(settings, vendor, game, brand):
    fast_player, python_player = PlayerFactory(brand=brand), PlayerFactory(brand=brand)
    fast_session, fast_token = ready(fast_player, game)
    python_session, python_token = ready(python_player, game)
    OutboxEvent.objects.all().delete()

    fast_answers = play_fast(vendor, fast_token, calls("f-"))
    settings.GAME_WALLET_FAST_PATH = False
    python_answers = play_python(vendor, python_token, calls("p-"))

    def answer_clean(answer, player, prefix):
        return json.loads(json.dumps(answer).replace(prefix, "").replace(f'"{player.pk}"', '"P"'))

    assert ([answer_clean(a, fast_player, "f-") for a in fast_answers]
            == [answer_clean(a, python_player, "p-") for a in python_answers])
    fast_books, python_books = books(fast_player, fast_session, "f-"), books(python_player, python_session, "p-")
    for part in python_books:
        assert fast_books[part] == python_books[part], part
    # The split bet took the last 8.50 of real money and 3.50 of bonus money, the next two bets bonus money
    # only, and the 2.00 win was paid as real money.
    assert fast_books["balances"][AccountKind.REAL] == Decimal("2.00")
    assert fast_books["balances"][AccountKind.BONUS] == Decimal("0.50")
    assert [event for event, _ in fast_books["events"]].count("CASINO") == 8


def test_the_fast_path_keeps_the_python_paths_request_fingerprint(vendor, game, player):
    _, token = ready(player, game)
    bet_fast(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount="2.00", currency="EUR")
    win_fast(vendor=vendor, token=token, transaction_id="w1", round_id="r1", amount="1.00", currency="EUR",
                       round_closed=True)

    hashes = dict(GameTransaction.objects.values_list("external_id", "request_hash"))
    assert hashes["b1"] == play._fingerprint("BET", player.pk, "r1", Decimal("2.00"), "EUR")
    assert hashes["w1"] == play._fingerprint("WIN", player.pk, "r1", Decimal("1.00"), "EUR", True)


def test_a_retry_of_a_fast_bet_gets_its_first_answer_from_the_python_path(vendor, game, player):
    _, token = ready(player, game)
    first = bet_fast(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount="2.00",
                               currency="EUR")

    assert bet_fast(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount="2.00",
                              currency="EUR") is None
    retry = play.seamless_bet(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount="2.00",
                              currency="EUR")
    assert retry.body == first
    assert GameTransaction.objects.count() == 1


def test_a_yen_bet_has_no_decimal_places(vendor, game, brand):
    player = PlayerFactory(brand=brand, currency="JPY")
    _, token = ready(player, game, real="1000", bonus="0")

    answer = bet_fast(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount="300",
                                currency="JPY")

    assert (answer["amount"], answer["balance"], answer["real_balance"]) == ("300", "700", "700")
    payload = _text("SELECT payload::text FROM crm_outboxevent WHERE player_id = %s AND event_type = %s",
                    [player.pk, "USER_BALANCES_UPDATE"])[-1]
    assert '"amount": 700,' in payload and '"exchange_rate": ' in payload


def _written() -> tuple[int, int, int, int]:
    return (GameTransaction.objects.count(), GameRound.objects.count(), LedgerTransaction.objects.count(),
            OutboxEvent.objects.count())


def _block(player, session):
    PlayerBlock.objects.create(player=player, kind=BlockKind.OPERATOR, reason="test", starts_at=timezone.now(),
                               created_by_kind=ActorKind.STAFF)


def _wager_limit(player, session):
    limits.player_limit_set(player=player, kind=LimitKind.WAGER, period=LimitPeriod.DAY, value="500")


def _status(status):
    def change(player, session):
        type(player).objects.filter(pk=player.pk).update(status=status)
    return change


def _session(**fields):
    def change(player, session):
        GameSession.objects.filter(pk=session.pk).update(**fields)
    return change


def _game_disabled(player, session):
    type(session.game).objects.filter(pk=session.game_id).update(enabled=False)


def _earlier_bet(tx="b1", round_id="r1"):
    def change(player, session):
        token = change.token
        play.seamless_bet(vendor=session.game.vendor, token=token, transaction_id=tx, round_id=round_id,
                          amount="1.00", currency="EUR")
    return change


def _rollback_first(player, session):
    play.seamless_rollback(vendor=session.game.vendor, token=_rollback_first.token, transaction_id="rb1",
                           bet_transaction_id="b1")


def _closed_round(player, session):
    token = _closed_round.token
    play.seamless_bet(vendor=session.game.vendor, token=token, transaction_id="b0", round_id="r1", amount="1.00",
                      currency="EUR")
    play.seamless_win(vendor=session.game.vendor, token=token, transaction_id="w0", round_id="r1", amount="0",
                      currency="EUR")


def _others_round(player, session):
    other = PlayerFactory(brand=player.brand)
    _, token = ready(other, session.game)
    play.seamless_bet(vendor=session.game.vendor, token=token, transaction_id="other-b", round_id="r1",
                      amount="1.00", currency="EUR")


def _no_house_shard(player, session):
    Account.objects.filter(player__isnull=True, kind=AccountKind.GAME_SETTLEMENT).delete()


@pytest.mark.parametrize(("setup", "amount", "currency"), [
    pytest.param(_block, "1.00", "EUR", id="blocked player"),
    pytest.param(_wager_limit, "1.00", "EUR", id="wager limit"),
    pytest.param(_status(AccountStatus.SUSPENDED), "1.00", "EUR", id="account not playable"),
    pytest.param(_session(status=SessionStatus.CLOSED, ended_at=timezone.now()), "1.00", "EUR", id="ended session"),
    pytest.param(_session(expires_at=timezone.now() - timedelta(seconds=1)), "1.00", "EUR", id="overdue session"),
    pytest.param(_session(reality_check_minutes=30, reality_check_due_at=timezone.now() - timedelta(seconds=1)),
                 "1.00", "EUR", id="reality check due"),
    pytest.param(_game_disabled, "1.00", "EUR", id="game disabled"),
    pytest.param(None, "1.00", "SEK", id="other currency"),
    pytest.param(None, "15.01", "EUR", id="too little money"),
    pytest.param(None, "1.001", "EUR", id="too many decimal places"),
    pytest.param(_earlier_bet(), "1.00", "EUR", id="transaction id seen"),
    pytest.param(_rollback_first, "1.00", "EUR", id="rolled back before it came"),
    pytest.param(_closed_round, "1.00", "EUR", id="closed round"),
    pytest.param(_others_round, "1.00", "EUR", id="another player's round"),
    pytest.param(_no_house_shard, "1.00", "EUR", id="accounts missing"),
])
def test_a_bet_the_fast_path_cannot_take_writes_nothing_and_is_left_to_the_python_path(
        vendor, game, player, setup, amount, currency):
    session, token = ready(player, game, real="10.00", bonus="5.00")
    if setup is not None:
        setup.token = token
        setup(player, session)
    before = _written()

    answer = bet_fast(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount=amount,
                                currency=currency)

    assert answer is None
    assert _written() == before


@pytest.mark.parametrize(("starts", "ends", "lifted", "active"), BLOCK_CASES)
def test_the_fast_path_takes_a_bet_exactly_when_the_players_app_finds_no_active_block(
        vendor, game, player, starts, ends, lifted, active):
    _, token = ready(player, game)
    block_create(player, starts, ends, lifted)

    answer = bet_fast(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount="1.00",
                                currency="EUR")

    assert (answer is None) is active


@pytest.mark.parametrize(("setup", "round_id"), [
    pytest.param(None, "no-such-round", id="unknown round"),
    pytest.param(_closed_round, "r1", id="closed round"),
    pytest.param(_others_round, "r1", id="another player's round"),
])
def test_a_win_the_fast_path_cannot_take_writes_nothing(vendor, game, player, setup, round_id):
    session, token = ready(player, game)
    if setup is not None:
        setup.token = token
        setup(player, session)
    before = _written()

    assert win_fast(vendor=vendor, token=token, transaction_id="w1", round_id=round_id, amount="1.00",
                              currency="EUR", round_closed=True) is None
    assert _written() == before


def test_a_win_on_an_ended_session_is_taken_by_the_fast_path_and_keeps_the_sessions_times(vendor, game, player):
    session, token = ready(player, game)
    bet_fast(vendor=vendor, token=token, transaction_id="b1", round_id="r1", amount="1.00", currency="EUR")
    ended = timezone.now()
    GameSession.objects.filter(pk=session.pk).update(status=SessionStatus.CLOSED, ended_at=ended)
    times = GameSession.objects.values_list("last_activity_at", "expires_at").get(pk=session.pk)

    answer = win_fast(vendor=vendor, token=token, transaction_id="w1", round_id="r1", amount="3.00",
                                currency="EUR", round_closed=True)

    assert answer["balance"] == "17.00"
    assert GameSession.objects.values_list("last_activity_at", "expires_at").get(pk=session.pk) == times


def test_the_fast_path_can_be_turned_off(settings, vendor, game, player, provider):
    from games.tests.factories import signed_post

    _, token = ready(player, game)
    settings.GAME_WALLET_FAST_PATH = False
    calls_made = []
    original = fast_path.fast_run
    fast_path.fast_run = lambda call: calls_made.append(call) or original(call)
    try:
        response = signed_post(provider, "bet", {"token": token, "transaction_id": "b1", "round_id": "r1",
                                                 "amount": "1.00", "currency": "EUR"})
    finally:
        fast_path.fast_run = original

    assert response.status_code == 200 and response.json()["balance"] == "14.00"
    assert calls_made == []


def bet_win_calls(prefix):
    return [(f"{prefix}b1", f"{prefix}w1", f"{prefix}r1", "3.00", "1.50"),
            (f"{prefix}b2", f"{prefix}w2", f"{prefix}r2", "12.00", "0.00"),
            (f"{prefix}b3", f"{prefix}w3", f"{prefix}r3", "0.50", "4.00")]


def play_bet_wins(vendor, token, sequence, *, fast):
    answers = []
    for bet_id, win_id, round_id, bet_amount, win_amount in sequence:
        call = {"vendor": vendor, "token": token, "bet_transaction_id": bet_id, "win_transaction_id": win_id,
                "round_id": round_id, "bet_amount": bet_amount, "win_amount": win_amount, "currency": "EUR"}
        if fast:
            assert bet_win_fast(**call) is not None, f"the fast path declined {bet_id}"
        answers.append(play.seamless_bet_win(**call).body)
    return answers


def test_a_bet_win_on_the_fast_path_books_exactly_what_the_python_path_books(settings, vendor, game, brand):
    fast_player, python_player = PlayerFactory(brand=brand), PlayerFactory(brand=brand)
    fast_session, fast_token = ready(fast_player, game)
    python_session, python_token = ready(python_player, game)
    OutboxEvent.objects.all().delete()

    # The fast player's calls are booked by the fast path, then answered again as retries by play.
    fast_answers = play_bet_wins(vendor, fast_token, bet_win_calls("f-"), fast=True)
    settings.GAME_WALLET_FAST_PATH = False
    python_answers = play_bet_wins(vendor, python_token, bet_win_calls("p-"), fast=False)

    def clean(answers, player, prefix):
        return json.loads(json.dumps(answers).replace(prefix, "").replace(f'"{player.pk}"', '"P"'))

    assert clean(fast_answers, fast_player, "f-") == clean(python_answers, python_player, "p-")
    fast_books, python_books = books(fast_player, fast_session, "f-"), books(python_player, python_session, "p-")
    for part in python_books:
        assert fast_books[part] == python_books[part], part


def test_a_bet_win_whose_win_cannot_be_taken_leaves_no_bet_behind(vendor, game, player):
    _, token = ready(player, game)
    bet_fast(vendor=vendor, token=token, transaction_id="b0", round_id="r0", amount="1.00", currency="EUR")
    win_fast(vendor=vendor, token=token, transaction_id="w-used", round_id="r0", amount="0",
                       currency="EUR", round_closed=True)
    before = _written()

    answers = bet_win_fast(vendor=vendor, token=token, bet_transaction_id="b1",
                                     win_transaction_id="w-used", round_id="r1", bet_amount="1.00",
                                     win_amount="2.00", currency="EUR")

    assert answers is None
    assert _written() == before


@pytest.mark.parametrize("function", ["wallet_game_post", "crm_events_add"])
def test_the_statements_that_unnest_array_parameters_keep_one_generic_plan(function):
    # Otherwise the plan cache plans them again on every call (wallet migration 0007).
    with connection.cursor() as cursor:
        cursor.execute("SELECT proconfig FROM pg_proc WHERE proname = %s", [function])
        [(config,)] = cursor.fetchall()
    assert config == ["plan_cache_mode=force_generic_plan"]


def _rows_read_from_game_transactions() -> int:
    """Rows this transaction has read from games_gametransaction, by its indexes or by scanning it."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT (SELECT SUM(pg_stat_get_xact_tuples_returned(indexrelid)) FROM pg_index
                     WHERE indrelid = 'games_gametransaction'::regclass)
                 + (SELECT seq_tup_read FROM pg_stat_xact_user_tables WHERE relname = 'games_gametransaction')""")
        return cursor.fetchone()[0]


def test_a_bet_finds_earlier_calls_by_key_with_plans_made_while_the_table_was_empty(vendor, game, player):
    # A new database: a session plans the fast path's statements while the tables are empty and keeps
    # those plans until autovacuum analyzes the tables again (games migration 0007).
    _, token = ready(player, game)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE games_gametransaction")
    for n in range(6):  # past the plan cache's first five plans made for the values in hand
        assert bet_fast(vendor=vendor, token=token, transaction_id=f"b{n}", round_id=f"r{n}",
                                  amount="0.10", currency="EUR")
    columns = ("kind, currency, amount, real_amount, bonus_amount, reference_id, request_hash, response, created_at, "
               "player_id, round_id, session_id, vendor_id")
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO games_gametransaction (external_id, {columns})
            SELECT 'other-' || n, {columns} FROM games_gametransaction, generate_series(1, 3000) AS n
             WHERE external_id = 'b0'""")
    before = _rows_read_from_game_transactions()

    answer = bet_fast(vendor=vendor, token=token, transaction_id="b-next", round_id="r-next",
                                amount="0.10", currency="EUR")

    assert answer is not None
    assert _rows_read_from_game_transactions() - before <= 2
