"""The seamless wallet's money calls through the signed HTTP API: bets, wins, rollbacks, bet-win, retries."""

from decimal import Decimal

import pytest

from crm.models import EventType, OutboxEvent
from games.models import GameRound, GameSession, GameTransaction, RoundStatus
from games.selectors import ledger_transaction_of
from games.tests.factories import signed_post
from wallet.models import Account, AccountKind, Entry, LedgerTransaction
from wallet.services.game_play import GAME_BET, GAME_REFUND, GAME_WIN

pytestmark = pytest.mark.django_db


def balances(player) -> tuple[Decimal, Decimal]:
    rows = dict(Account.objects.filter(player=player, currency=player.currency).values_list("kind", "balance"))
    return rows.get(AccountKind.REAL, Decimal(0)), rows.get(AccountKind.BONUS, Decimal(0))


def casino_events(player) -> list[dict]:
    return [event.payload for event in
            OutboxEvent.objects.filter(player_id=player.pk, event_type=EventType.CASINO).order_by("id")]


def bet(provider, token, tx="bet-1", round_id="round-1", amount="4.00", currency="EUR"):
    return signed_post(provider, "bet", {"token": token, "transaction_id": tx, "round_id": round_id,
                                         "amount": amount, "currency": currency})


def win(provider, token, tx="win-1", round_id="round-1", amount="0.00", round_closed=True):
    return signed_post(provider, "win", {"token": token, "transaction_id": tx, "round_id": round_id,
                                         "amount": amount, "currency": "EUR", "round_closed": round_closed})


def rollback(provider, token, tx="rb-1", bet_tx="bet-1"):
    return signed_post(provider, "rollback", {"token": token, "transaction_id": tx, "bet_transaction_id": bet_tx})


def test_authenticate_answers_the_player_currency_and_balance(provider, session_token, funded):
    session, token = session_token
    response = signed_post(provider, "authenticate", {"token": token})
    assert response.status_code == 200
    body = response.json()
    assert body["player_id"] == str(funded.pk) and body["session_id"] == str(session.pk)
    assert (body["currency"], body["balance"], body["real_balance"], body["bonus_balance"]) == (
        "EUR", "15.00", "10.00", "5.00")


def test_an_unknown_token_is_refused(provider, vendor):
    response = signed_post(provider, "balance", {"token": "nope"})
    assert response.status_code == 401 and response.json()["code"] == "INVALID_TOKEN"


def test_a_bet_takes_real_money_and_books_it_with_its_events(provider, session_token, funded):
    session, token = session_token
    assert balances(funded) == (Decimal("10.00"), Decimal("5.00"))

    response = bet(provider, token, amount="4.00")

    assert response.status_code == 200
    body = response.json()
    assert (body["balance"], body["real_amount"], body["bonus_amount"]) == ("11.00", "4.00", "0.00")
    assert balances(funded) == (Decimal("6.00"), Decimal("5.00"))
    record = GameTransaction.objects.get(external_id="bet-1")
    assert (record.amount, record.real_amount, record.bonus_amount) == (Decimal("4"), Decimal("4"), Decimal("0"))
    ledger = LedgerTransaction.objects.get(external_id="acme:bet-1")
    assert ledger.kind == GAME_BET and ledger.amount == Decimal("4")
    assert ledger_transaction_of(record) == ledger
    assert sum(Entry.objects.filter(transaction=ledger).values_list("amount", flat=True)) == 0
    house = Account.objects.filter(player__isnull=True, kind=AccountKind.GAME_SETTLEMENT, currency="EUR")
    assert sum(row.balance for row in house) == Decimal("4")  # over the house's shards
    [event] = casino_events(funded)
    assert (event["type"], event["status"], event["round_id"], event["activity_id"]) == (
        "Bet", "Approved", "round-1", "acme:bet-1")
    assert (event["amount"], event["wager_amount"], event["bonus_wager_amount"]) == (4, 4, 0)
    assert (event["balance_before"], event["balance_after"], event["is_round_end"]) == (15, 11, False)
    balance_event = OutboxEvent.objects.filter(player_id=funded.pk, event_type=EventType.USER_BALANCES_UPDATE).last()
    assert [item["amount"] for item in balance_event.payload["balances"]] == [6, 5]
    session.refresh_from_db()
    assert (session.rounds, session.total_bet) == (1, Decimal("4"))


def test_a_bet_spends_real_money_first_then_bonus_money(provider, session_token, funded):
    _, token = session_token
    body = bet(provider, token, amount="12.50").json()
    assert (body["real_amount"], body["bonus_amount"], body["balance"]) == ("10.00", "2.50", "2.50")
    assert balances(funded) == (Decimal("0"), Decimal("2.50"))
    record = GameTransaction.objects.get(external_id="bet-1")
    assert (record.real_amount, record.bonus_amount) == (Decimal("10"), Decimal("2.5"))
    [event] = casino_events(funded)
    assert (event["amount"], event["wager_amount"], event["bonus_wager_amount"]) == (12.5, 10, 2.5)


def test_a_bet_above_the_balance_is_refused_and_writes_nothing(provider, session_token, funded):
    _, token = session_token
    events_before = OutboxEvent.objects.count()
    response = bet(provider, token, amount="15.01")
    assert response.status_code == 402
    body = response.json()
    assert body["code"] == "INSUFFICIENT_FUNDS" and body["balance"] == "15.00"
    assert balances(funded) == (Decimal("10.00"), Decimal("5.00"))
    assert not GameTransaction.objects.exists() and not GameRound.objects.exists()
    assert OutboxEvent.objects.count() == events_before


def test_a_retried_bet_gets_the_first_answer_and_is_booked_once(provider, session_token, funded):
    _, token = session_token
    first = bet(provider, token, amount="3.00")
    again = bet(provider, token, amount="3.00")
    assert again.status_code == 200 and again.json() == first.json()
    assert balances(funded) == (Decimal("7.00"), Decimal("5.00"))
    assert GameTransaction.objects.count() == 1 and LedgerTransaction.objects.filter(kind=GAME_BET).count() == 1
    assert len(casino_events(funded)) == 1


def test_the_same_transaction_id_with_another_amount_is_a_duplicate(provider, session_token, funded):
    _, token = session_token
    bet(provider, token, amount="3.00")
    response = bet(provider, token, amount="3.50")
    assert response.status_code == 409
    assert response.json()["code"] == "DUPLICATE_TRANSACTION" and response.json()["balance"] == "12.00"
    assert balances(funded) == (Decimal("7.00"), Decimal("5.00"))
    assert GameTransaction.objects.count() == 1


def test_a_win_pays_real_money_and_closes_the_round(provider, session_token, funded):
    session, token = session_token
    bet(provider, token, amount="2.00")
    response = win(provider, token, amount="5.00")
    assert response.status_code == 200 and response.json()["balance"] == "18.00"
    assert balances(funded) == (Decimal("13.00"), Decimal("5.00"))
    assert GameRound.objects.get(round_id="round-1").status == RoundStatus.CLOSED
    assert LedgerTransaction.objects.get(external_id="acme:win-1").kind == GAME_WIN
    bet_event, win_event = casino_events(funded)
    assert bet_event["round_id"] == win_event["round_id"] == "round-1"
    assert bet_event["activity_id"] != win_event["activity_id"]
    assert (win_event["type"], win_event["amount"], win_event["is_round_end"]) == ("Win", 5, True)
    assert (win_event["balance_before"], win_event["balance_after"]) == (13, 18)
    session.refresh_from_db()
    assert session.total_win == Decimal("5")


def test_a_losing_round_is_closed_by_a_win_of_zero_that_moves_no_money(provider, session_token, funded):
    _, token = session_token
    bet(provider, token, amount="2.00")
    ledger_before = LedgerTransaction.objects.count()
    response = win(provider, token, amount="0")
    assert response.status_code == 200 and response.json()["balance"] == "13.00"
    assert LedgerTransaction.objects.count() == ledger_before
    assert GameRound.objects.get(round_id="round-1").status == RoundStatus.CLOSED
    win_event = casino_events(funded)[-1]
    assert (win_event["type"], win_event["amount"], win_event["is_round_end"]) == ("Win", 0, True)


def test_a_win_on_a_closed_round_or_an_unknown_round_is_refused(provider, session_token, funded):
    _, token = session_token
    bet(provider, token, amount="2.00")
    win(provider, token, amount="1.00")
    again = win(provider, token, tx="win-2", amount="1.00")
    assert again.status_code == 409 and again.json()["code"] == "ROUND_CLOSED"
    unknown = win(provider, token, tx="win-3", round_id="nope", amount="1.00")
    assert unknown.status_code == 404 and unknown.json()["code"] == "ROUND_NOT_FOUND"
    assert balances(funded) == (Decimal("9.00"), Decimal("5.00"))


def test_a_rollback_refunds_each_part_of_the_bet_once(provider, session_token, funded):
    session, token = session_token
    bet(provider, token, amount="12.00")  # 10 real + 2 bonus
    assert balances(funded) == (Decimal("0"), Decimal("3.00"))

    response = rollback(provider, token)
    assert response.status_code == 200
    body = response.json()
    assert (body["real_amount"], body["bonus_amount"], body["balance"]) == ("10.00", "2.00", "15.00")
    assert balances(funded) == (Decimal("10.00"), Decimal("5.00"))
    refund = LedgerTransaction.objects.get(external_id="acme:rb-1")
    assert refund.kind == GAME_REFUND and refund.reverses.external_id == "acme:bet-1"
    event = casino_events(funded)[-1]
    assert (event["type"], event["status"], event["activity_id"], event["amount"]) == (
        "Bet", "Rollback", "acme:bet-1", 12)
    session.refresh_from_db()
    assert session.total_bet == 0

    retry = rollback(provider, token)
    assert retry.status_code == 200 and retry.json() == body
    second = rollback(provider, token, tx="rb-2")
    assert second.status_code == 409 and second.json()["code"] == "TRANSACTION_ROLLED_BACK"
    assert balances(funded) == (Decimal("10.00"), Decimal("5.00"))
    assert LedgerTransaction.objects.filter(kind=GAME_REFUND).count() == 1


def test_a_rollback_before_its_bet_is_remembered_and_the_late_bet_is_refused(provider, session_token, funded):
    _, token = session_token
    early = rollback(provider, token, bet_tx="bet-late")
    assert early.status_code == 404 and early.json()["code"] == "TRANSACTION_NOT_FOUND"
    assert early.json()["balance"] == "15.00"
    assert GameTransaction.objects.get(external_id="rb-1").reference_id == "bet-late"

    late = bet(provider, token, tx="bet-late", amount="1.00")
    assert late.status_code == 409 and late.json()["code"] == "TRANSACTION_ROLLED_BACK"
    assert balances(funded) == (Decimal("10.00"), Decimal("5.00"))
    assert not LedgerTransaction.objects.filter(kind=GAME_BET).exists()
    assert rollback(provider, token, bet_tx="bet-late").json() == early.json()


def test_a_rollback_of_another_players_bet_is_not_found(provider, session_token, funded, game):
    from games.tests.factories import fund, launch
    from players.tests.factories import PlayerFactory

    other = PlayerFactory(brand=funded.brand)
    fund(other, real="5.00")
    _, other_token = launch(other, game)
    bet(provider, other_token, tx="their-bet", amount="1.00")
    _, token = session_token
    response = rollback(provider, token, bet_tx="their-bet")
    assert response.status_code == 404 and response.json()["code"] == "TRANSACTION_NOT_FOUND"
    assert balances(other) == (Decimal("4.00"), Decimal("0"))


def test_bet_and_win_settle_together_and_a_retry_returns_the_same_answer(provider, session_token, funded):
    _, token = session_token
    payload = {"token": token, "bet_transaction_id": "b-9", "win_transaction_id": "w-9", "round_id": "r-9",
               "bet_amount": "1.00", "win_amount": "2.50", "currency": "EUR"}
    first = signed_post(provider, "bet-win", payload)
    assert first.status_code == 200
    assert first.json()["balance"] == "16.50" and first.json()["round_closed"] is True
    again = signed_post(provider, "bet-win", payload)
    assert again.json() == first.json()
    assert balances(funded) == (Decimal("11.50"), Decimal("5.00"))
    assert [event["type"] for event in casino_events(funded)] == ["Bet", "Win"]
    assert GameRound.objects.get(round_id="r-9").status == RoundStatus.CLOSED


def test_a_bet_win_whose_bet_is_refused_books_neither(provider, session_token, funded):
    _, token = session_token
    response = signed_post(provider, "bet-win", {
        "token": token, "bet_transaction_id": "b-9", "win_transaction_id": "w-9", "round_id": "r-9",
        "bet_amount": "100.00", "win_amount": "200.00", "currency": "EUR"})
    assert response.status_code == 402
    assert not GameTransaction.objects.exists() and balances(funded) == (Decimal("10.00"), Decimal("5.00"))


@pytest.mark.parametrize(("amount", "field"), [
    ("-1.00", "amount"), ("0", "amount"), ("1.001", "amount"), ("abc", "amount"), (True, "amount"), (None, "amount"),
    ("1e30", "amount"),
])
def test_a_bad_amount_is_refused_with_invalid_request_and_writes_nothing(provider, session_token, amount, field):
    _, token = session_token
    response = bet(provider, token, amount=amount)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST" and field in response.json()["fields"]
    assert not GameTransaction.objects.exists()


def test_a_json_number_amount_is_read_exactly(provider, session_token, funded):
    _, token = session_token
    body = b'{"token": "%s", "transaction_id": "t1", "round_id": "r1", "amount": 0.1, "currency": "EUR"}' % (
        token.encode())
    from games.seamless.signing import signed_headers
    from games.tests.factories import VENDOR_CODE, VENDOR_SECRET

    response = provider.post("/wallet-api/v1/bet", data=body, content_type="application/json",
                             headers=signed_headers(vendor=VENDOR_CODE, secret=VENDOR_SECRET, body=body))
    assert response.status_code == 200 and response.json()["amount"] == "0.10"
    assert balances(funded)[0] == Decimal("9.90")


def test_a_bet_in_another_currency_or_with_a_bad_id_is_refused(provider, session_token):
    _, token = session_token
    response = bet(provider, token, currency="USD")
    assert response.status_code == 400 and response.json()["code"] == "CURRENCY_MISMATCH"
    response = bet(provider, token, tx="bad id with spaces")
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
    assert not GameTransaction.objects.exists()


def test_a_missing_field_is_an_invalid_request(provider, session_token):
    _, token = session_token
    response = signed_post(provider, "bet", {"token": token, "amount": "1.00"})
    assert response.status_code == 400 and response.json()["code"] == "INVALID_REQUEST"
    assert set(response.json()["fields"]) >= {"transaction_id", "round_id", "currency"}


def test_every_answer_of_a_round_carries_the_balance(provider, session_token):
    _, token = session_token
    for response in (bet(provider, token, amount="1.00"), win(provider, token, amount="0.50"),
                     signed_post(provider, "balance", {"token": token})):
        assert response.status_code == 200 and "balance" in response.json()
    assert GameSession.objects.count() == 1
