from datetime import date

import pytest
from django.test import Client

from crm.models import EventType, OutboxEvent
from players.models import AccountStatus, Player, PlayerBlock, ResponsibleGamingLimit
from players.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def site_login(player) -> Client:
    client = Client()
    response = client.post("/login", {"username": player.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_visitor_registers_in_the_browser_and_lands_on_the_profile(brand):
    client = Client()
    assert client.get("/register").status_code == 200

    response = client.post("/register", {
        "username": "webby", "email": "webby@example.com", "password": "a-long-passphrase-9",
        "birth_date": "1991-02-03", "country": "MT", "currency": "EUR", "language": "en",
        "consent_email": "on",
    }, follow=True)

    assert response.redirect_chain[-1][0] == "/profile"
    assert b"webby" in response.content
    player = Player.objects.get(username="webby")
    assert player.consent_email is True and player.consent_sms is False
    types = set(OutboxEvent.objects.filter(player_id=player.pk).values_list("event_type", flat=True))
    assert types == {EventType.USER_CREATE, EventType.LOGIN}


def test_a_rejected_registration_shows_the_errors_on_the_form(brand):
    response = Client().post("/register", {
        "username": "kid", "email": "kid@example.com", "password": "a-long-passphrase-9",
        "birth_date": date.today().replace(year=date.today().year - 10).isoformat(), "country": "MT",
        "currency": "EUR", "language": "en",
    })
    assert response.status_code == 200
    assert b"at least 18 years old" in response.content
    assert not Player.objects.exists()


def test_a_wrong_password_on_the_site_shows_an_error(player):
    response = Client().post("/login", {"username": player.username, "password": "wrong"})
    assert response.status_code == 200
    assert b"Wrong username or password" in response.content


def test_pages_need_a_login_and_only_redirect_inside_the_site(player):
    assert Client().get("/limits")["Location"] == "/login?next=/limits"
    response = Client().post("/login?next=//evil.example", {"username": player.username, "password": PASSWORD})
    assert response["Location"] == "/profile"


def test_a_logged_in_player_uses_every_page(player):
    client = site_login(player)
    for page in ("/profile", "/consents", "/limits", "/self-exclusion", "/timeout"):
        assert client.get(page).status_code == 200, page

    client.post("/consents", {"email": "on", "sms": "on"})
    client.post("/limits", {"kind": "DEPOSIT", "period": "DAY", "value": "50"})
    client.post("/timeout", {"hours": "24"})

    player.refresh_from_db()
    assert player.consent_email and player.consent_sms
    assert ResponsibleGamingLimit.objects.get(player=player).value == 50
    assert player.status == AccountStatus.SELF_EXCLUDED
    assert PlayerBlock.objects.filter(player=player).count() == 1


def test_a_bad_limit_on_the_site_shows_the_rule(player):
    client = site_login(player)
    response = client.post("/limits", {"kind": "DEPOSIT", "period": "", "value": "50"})
    assert response.status_code == 200
    assert b"Use DAY, WEEK or MONTH" in response.content
    assert not ResponsibleGamingLimit.objects.exists()


def test_logout_ends_the_session(player):
    client = site_login(player)
    client.post("/logout")
    assert client.get("/profile").status_code == 302


def test_the_back_office_and_the_api_docs_are_served():
    client = Client()
    assert client.get("/admin/login/").status_code == 200
    assert client.get("/api/docs/").status_code == 200
    assert client.get("/health").json()["database"] == "ok"
    assert client.get("/api/v1/nope").json() == {"error": "Not found.", "code": "not_found"}
