"""Launching games, game sessions and responsible gaming in play (limits, session time, reality checks)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from crm.models import EventType, OutboxEvent
from games.models import GameSession, GameTransaction, SessionStatus
from games.selectors import token_hash
from games.services.sessions import game_sessions_expire
from games.tests.factories import GameFactory, fund, signed_post
from players.models import LimitKind, LimitPeriod
from players.services import blocks, limits
from wallet.models import Account, AccountKind

pytestmark = pytest.mark.django_db


def custom_events(player) -> list[dict]:
    return [event.payload for event in
            OutboxEvent.objects.filter(player_id=player.pk, event_type=EventType.CUSTOM).order_by("id")]


def bet(provider, token, tx="bet-1", amount="1.00", round_id=None):
    return signed_post(provider, "bet", {"token": token, "transaction_id": tx, "round_id": round_id or f"r-{tx}",
                                         "amount": amount, "currency": "EUR"})


def real_balance(player) -> Decimal:
    return Account.objects.get(player=player, kind=AccountKind.REAL).balance


# ---------------------------------------------------------------------------------------------
# Launch API


def test_launching_a_game_starts_a_session_with_a_token_and_the_providers_url(player_api, player, game):
    assert not GameSession.objects.exists()
    response = player_api.post(f"/api/v1/games/{game.pk}/launch")
    assert response.status_code == 201
    body = response.json()
    session = GameSession.objects.get()
    assert body["session"]["id"] == session.pk and body["session"]["status"] == "ACTIVE"
    assert body["launch_url"].startswith("http://provider.test/game?token=")
    token = body["launch_url"].split("token=")[1].split("&")[0]
    assert session.token_hash == token_hash(token) and token not in session.token_hash
    assert f"game={game.code}" in body["launch_url"] and "currency=EUR" in body["launch_url"]
    [event] = custom_events(player)
    assert event["notification_type"] == "game_session_started"
    assert event["data"]["session_id"] == str(session.pk) and event["data"]["game_id"] == game.code


def test_the_catalog_lists_enabled_games_allowed_in_the_players_country(player_api, player, game, vendor):
    GameFactory(vendor=vendor, enabled=False, name="Off")
    GameFactory(vendor=vendor, restricted_countries=["MT"], name="Not in Malta")
    response = player_api.get("/api/v1/games/")
    assert response.status_code == 200
    assert [item["name"] for item in response.json()] == [game.name]
    assert response.json()[0]["game_type"] == "Slots" and response.json()[0]["rtp"] == "96.00"


def test_the_games_api_needs_a_player(api, game):
    assert api.get("/api/v1/games/").status_code in (401, 403)
    assert api.post(f"/api/v1/games/{game.pk}/launch").status_code in (401, 403)
    assert not GameSession.objects.exists()


def test_a_blocked_player_cannot_launch_and_nothing_is_written(player_api, player, game, compliance):
    blocks.player_block(player=player, reason="fraud check", actor_user=compliance)
    events_before = OutboxEvent.objects.count()
    response = player_api.post(f"/api/v1/games/{game.pk}/launch")
    assert response.status_code == 403 and response.json()["code"] == "PLAYER_BLOCKED"
    assert not GameSession.objects.exists() and OutboxEvent.objects.count() == events_before


def test_a_player_on_a_time_out_cannot_launch(player_api, player, game):
    blocks.player_timeout(player=player, duration=timedelta(hours=2))
    response = player_api.post(f"/api/v1/games/{game.pk}/launch")
    assert response.status_code == 403 and response.json()["code"] == "PLAYER_BLOCKED"
    assert not GameSession.objects.exists()


def test_a_game_restricted_in_the_players_country_or_disabled_cannot_be_launched(player_api, vendor):
    restricted = GameFactory(vendor=vendor, restricted_countries=["mt"])
    disabled = GameFactory(vendor=vendor, enabled=False)
    for game in (restricted, disabled):
        response = player_api.post(f"/api/v1/games/{game.pk}/launch")
        assert response.status_code == 403 and response.json()["code"] == "GAME_UNAVAILABLE"
    assert player_api.post("/api/v1/games/999999/launch").json()["code"] == "GAME_NOT_FOUND"
    assert not GameSession.objects.exists()


def test_closing_a_session_ends_it_once_with_one_event(player_api, player, game):
    session_id = player_api.post(f"/api/v1/games/{game.pk}/launch").json()["session"]["id"]
    first = player_api.post(f"/api/v1/games/sessions/{session_id}/close")
    again = player_api.post(f"/api/v1/games/sessions/{session_id}/close")
    assert first.status_code == again.status_code == 200 and first.json()["status"] == "CLOSED"
    ended = [event for event in custom_events(player) if event["notification_type"] == "game_session_ended"]
    assert len(ended) == 1 and ended[0]["data"]["status"] == "CLOSED"
    assert GameSession.objects.get().ended_at is not None


def test_a_player_cannot_see_or_close_another_players_session(player_api, game):
    from games.tests.factories import launch
    from players.tests.factories import PlayerFactory

    other_session, _ = launch(PlayerFactory(), game)
    assert player_api.get(f"/api/v1/games/sessions/{other_session.pk}").status_code == 404
    assert player_api.post(f"/api/v1/games/sessions/{other_session.pk}/close").json()["code"] == "SESSION_NOT_FOUND"
    other_session.refresh_from_db()
    assert other_session.status == SessionStatus.ACTIVE


# ---------------------------------------------------------------------------------------------
# Expiry


def test_a_bet_on_an_idle_session_is_refused_and_ends_the_session(provider, session_token, funded, settings):
    session, token = session_token
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.GAME_SESSION_IDLE_MINUTES + 1)):
        response = bet(provider, token)
    assert response.status_code == 403 and response.json()["code"] == "SESSION_EXPIRED"
    session.refresh_from_db()
    assert session.status == SessionStatus.EXPIRED
    assert custom_events(funded)[-1]["notification_type"] == "game_session_ended"
    assert real_balance(funded) == Decimal("10.00") and not GameTransaction.objects.exists()


def test_play_keeps_a_session_alive(provider, session_token, funded, settings):
    session, token = session_token
    idle = settings.GAME_SESSION_IDLE_MINUTES
    with time_machine.travel(timezone.now() + timedelta(minutes=idle - 1)):
        assert bet(provider, token, tx="b1").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=2 * idle - 3)):
        assert bet(provider, token, tx="b2").status_code == 200
    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE


def test_wins_and_rollbacks_are_taken_after_the_session_expired(provider, session_token, funded, settings):
    session, token = session_token
    bet(provider, token, tx="b1", amount="2.00", round_id="r1")
    bet(provider, token, tx="b2", amount="3.00", round_id="r2")
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.GAME_SESSION_IDLE_MINUTES + 5)):
        assert game_sessions_expire() == 1
        session.refresh_from_db()
        assert session.status == SessionStatus.EXPIRED
        paid = signed_post(provider, "win", {"token": token, "transaction_id": "w1", "round_id": "r1",
                                             "amount": "4.00", "currency": "EUR"})
        refunded = signed_post(provider, "rollback", {"token": token, "transaction_id": "rb2",
                                                      "bet_transaction_id": "b2"})
        refused = bet(provider, token, tx="b3")
    assert paid.status_code == 200 and refunded.status_code == 200
    assert refused.status_code == 403 and refused.json()["code"] == "SESSION_EXPIRED"
    assert real_balance(funded) == Decimal("12.00")  # 10 - 2 - 3 + 4 + 3


def test_the_sweep_ends_idle_sessions_once(session_token, funded, settings):
    session, _ = session_token
    assert game_sessions_expire() == 0
    later = timezone.now() + timedelta(minutes=settings.GAME_SESSION_IDLE_MINUTES + 1)
    assert game_sessions_expire(now=later) == 1
    assert game_sessions_expire(now=later) == 0
    session.refresh_from_db()
    assert session.status == SessionStatus.EXPIRED
    assert [e["notification_type"] for e in custom_events(funded)].count("game_session_ended") == 1


# ---------------------------------------------------------------------------------------------
# Responsible gaming in the bet


def test_a_bet_of_a_player_blocked_during_the_session_is_refused(provider, session_token, funded, compliance):
    _, token = session_token
    blocks.player_block(player=funded, reason="investigation", actor_user=compliance)
    response = bet(provider, token)
    assert response.status_code == 403 and response.json()["code"] == "PLAYER_BLOCKED"
    assert response.json()["balance"] == "15.00"
    assert real_balance(funded) == Decimal("10.00")


def test_a_bet_that_could_pass_the_daily_loss_limit_is_refused(provider, session_token, funded):
    _, token = session_token
    limits.player_limit_set(player=funded, kind=LimitKind.LOSS, period=LimitPeriod.DAY, value="5")
    assert bet(provider, token, tx="b1", amount="3.00", round_id="r1").status_code == 200
    signed_post(provider, "win", {"token": token, "transaction_id": "w1", "round_id": "r1", "amount": "1.00",
                                  "currency": "EUR"})
    assert bet(provider, token, tx="b2", amount="3.00").status_code == 200  # lost 2 + 3 = 5: at the limit
    refused = bet(provider, token, tx="b3", amount="0.01")
    assert refused.status_code == 403 and refused.json()["code"] == "LIMIT_REACHED"
    assert "loss limit" in refused.json()["error"]
    assert real_balance(funded) == Decimal("5.00")


def test_a_bet_past_the_weekly_wager_limit_is_refused_and_refunds_count_back(provider, session_token, funded):
    _, token = session_token
    limits.player_limit_set(player=funded, kind=LimitKind.WAGER, period=LimitPeriod.WEEK, value="4")
    assert bet(provider, token, tx="b1", amount="4.00").status_code == 200
    assert bet(provider, token, tx="b2", amount="1.00").json()["code"] == "LIMIT_REACHED"
    signed_post(provider, "rollback", {"token": token, "transaction_id": "rb1", "bet_transaction_id": "b1"})
    assert bet(provider, token, tx="b3", amount="1.00").status_code == 200


def test_a_used_up_loss_limit_also_refuses_the_launch(player_api, player, game, provider):
    from games.tests.factories import launch

    fund(player, real="10.00")
    limits.player_limit_set(player=player, kind=LimitKind.LOSS, period=LimitPeriod.DAY, value="2")
    _, token = launch(player, game)
    assert bet(provider, token, amount="2.00").status_code == 200
    response = player_api.post(f"/api/v1/games/{game.pk}/launch")
    assert response.status_code == 403 and response.json()["code"] == "LIMIT_REACHED"
    assert GameSession.objects.count() == 1


def test_the_session_time_limit_ends_the_session_and_refuses_the_bet(provider, funded, game):
    from games.tests.factories import launch

    limits.player_limit_set(player=funded, kind=LimitKind.SESSION_TIME, value="20")
    session, token = launch(funded, game)
    assert session.limit_ends_at == session.started_at + timedelta(minutes=20)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert bet(provider, token, tx="b1").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=21)):
        refused = bet(provider, token, tx="b2")
    assert refused.status_code == 403 and refused.json()["code"] == "LIMIT_REACHED"
    session.refresh_from_db()
    assert session.status == SessionStatus.LIMIT_REACHED
    ended = custom_events(funded)[-1]
    assert ended["notification_type"] == "game_session_ended" and ended["data"]["status"] == "LIMIT_REACHED"
    assert real_balance(funded) == Decimal("9.00")


def test_the_reality_check_is_due_at_the_players_interval_and_acknowledged(provider, player_api, funded, game):
    limits.player_limit_set(player=funded, kind=LimitKind.REALITY_CHECK, value="15")
    launched = player_api.post(f"/api/v1/games/{game.pk}/launch").json()
    session_id = launched["session"]["id"]
    token = launched["launch_url"].split("token=")[1].split("&")[0]
    assert "reality_check" not in bet(provider, token, tx="b1").json()
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        answer = bet(provider, token, tx="b2").json()
        assert answer["reality_check"]["due"] is True and answer["reality_check"]["minutes_played"] == 16
        assert answer["reality_check"]["total_bet"] == "2.00"
        shown = player_api.get(f"/api/v1/games/sessions/{session_id}").json()
        assert shown["reality_check"]["due"] is True and shown["balance"]["balance"] == "13.00"
        acked = player_api.post(f"/api/v1/games/sessions/{session_id}/reality-check").json()
        assert acked["reality_check"]["due"] is False
        assert "reality_check" not in bet(provider, token, tx="b3").json()
        next_due = GameSession.objects.get(pk=session_id).reality_check_due_at
        assert timezone.now() + timedelta(minutes=14) < next_due <= timezone.now() + timedelta(minutes=15)


def test_the_periodic_task_ends_overdue_sessions_through_the_service(session_token, settings):
    from games.tasks import games_sessions_expire

    session, _ = session_token
    with time_machine.travel(timezone.now() + timedelta(minutes=settings.GAME_SESSION_IDLE_MINUTES + 1)):
        assert games_sessions_expire() == 1
    session.refresh_from_db()
    assert session.status == SessionStatus.EXPIRED
    assert "games-sessions-expire" in settings.CELERY_BEAT_SCHEDULE
