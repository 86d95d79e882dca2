"""The lobby and the game page of the player site."""

import pytest
from django.test import Client

from games.models import GameSession, SessionStatus
from games.tests.factories import GameFactory, fund
from players.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def site_login(player) -> Client:
    client = Client()
    assert client.post("/login", {"username": player.username, "password": PASSWORD}).status_code == 302
    return client


def test_the_lobby_lists_the_games_and_asks_visitors_to_log_in(game, vendor):
    GameFactory(vendor=vendor, restricted_countries=["MT"], name="Hidden in Malta")
    response = Client().get("/lobby")
    assert response.status_code == 200
    assert game.name.encode() in response.content and b"Log in" in response.content
    assert b"Lobby" in Client().get("/").content  # the nav link


def test_a_player_sees_their_balance_and_only_games_allowed_in_their_country(player, game, vendor):
    GameFactory(vendor=vendor, restricted_countries=["MT"], name="Hidden in Malta")
    fund(player, real="12.00", bonus="3.00")
    response = site_login(player).get("/lobby")
    assert b"15.00 EUR" in response.content and game.name.encode() in response.content
    assert b"Hidden in Malta" not in response.content


def test_launching_from_the_lobby_opens_the_game_page_with_the_provider_frame(player, game):
    client = site_login(player)
    response = client.post(f"/lobby/games/{game.pk}/launch")
    session = GameSession.objects.get(player=player)
    assert response.status_code == 302 and response["Location"] == f"/play/{session.pk}"
    page = client.get(f"/play/{session.pk}")
    assert page.status_code == 200
    assert b'<iframe id="game" src="http://provider.test/game?token=' in page.content
    assert b"Close game" in page.content


def test_closing_the_game_from_the_page_ends_the_session(player, game):
    client = site_login(player)
    client.post(f"/lobby/games/{game.pk}/launch")
    session = GameSession.objects.get(player=player)
    response = client.post(f"/play/{session.pk}/close", follow=True)
    assert response.redirect_chain[-1][0] == "/lobby" and b"Game closed." in response.content
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED


def test_a_refused_launch_shows_the_reason_and_starts_nothing(player, vendor):
    restricted = GameFactory(vendor=vendor, restricted_countries=["MT"])
    response = site_login(player).post(f"/lobby/games/{restricted.pk}/launch", follow=True)
    assert b"not available in your country" in response.content
    assert not GameSession.objects.exists()


def test_game_pages_need_a_login_and_are_private(player, game):
    from games.tests.factories import launch
    from players.tests.factories import PlayerFactory

    assert Client().post(f"/lobby/games/{game.pk}/launch")["Location"].startswith("/login")
    other_session, _ = launch(PlayerFactory(), game)
    assert site_login(player).get(f"/play/{other_session.pk}").status_code == 404
