from datetime import date, timedelta

import pytest
from django.utils import timezone

from crm.models import EventType, OutboxEvent
from players.models import ConsentChange, Player, PlayerLogin, PlayerToken
from players.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/players/register"


def registration(**overrides):
    today = timezone.localdate()
    body = {
        "username": "newbie", "email": "Newbie@Example.com", "password": "a-long-passphrase-9",
        "birth_date": date(today.year - 30, 1, 15).isoformat(), "country": "MT", "currency": "EUR",
        "language": "en", "first_name": "Nina", "last_name": "Zammit",
        "consents": {"email": True, "sms": False},
    }
    body.update(overrides)
    return body


def nothing_written():
    return not Player.objects.exists() and not OutboxEvent.objects.exists() and not ConsentChange.objects.exists()


def test_registration_creates_the_player_with_consent_history_and_a_crm_event(api, brand):
    response = api.post(REGISTER, registration(), format="json", HTTP_USER_AGENT="pytest-browser")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"].isdigit()
    player = Player.objects.get(pk=int(body["id"]))
    assert player.email == "newbie@example.com"  # stored lower-cased
    assert player.consent_email is True and player.consent_sms is False
    assert player.origin == brand.origin
    assert ConsentChange.objects.filter(player=player, source="registration").count() == 6
    event = OutboxEvent.objects.get(player_id=player.pk)
    assert event.event_type == EventType.USER_CREATE
    assert event.payload["user_id"] == str(player.pk)
    assert event.payload["origin"] == brand.origin
    assert event.payload["user_agent"] == "pytest-browser"
    assert event.payload["timestamp"].endswith("Z")
    assert "password" not in body


def test_an_eighteenth_birthday_today_is_old_enough(api, brand):
    today = timezone.localdate()
    try:
        birthday = today.replace(year=today.year - 18)
    except ValueError:  # 29 February
        birthday = today.replace(year=today.year - 18, day=28)
    response = api.post(REGISTER, registration(birth_date=birthday.isoformat()), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": (timezone.localdate() - timedelta(days=17 * 365)).isoformat()}, "birth_date"),
        ({"birth_date": "2100-01-01"}, "birth_date"),
        ({"birth_date": "not-a-date"}, "birth_date"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "two@@example.com"}, "email"),
        ({"country": "XX"}, "country"),
        ({"country": "mt"}, "country"),
        ({"country": "MLT"}, "country"),
        ({"currency": "ABC"}, "currency"),
        ({"currency": "EU"}, "currency"),
        ({"language": "xx"}, "language"),
        ({"password": "123"}, "password"),
        ({"username": "a b"}, "username"),
        ({"consents": {"fax": True}}, "consents"),
        ({"sex": "robot"}, "sex"),
    ],
)
def test_bad_registration_input_gets_a_400_with_field_errors_and_writes_nothing(api, brand, overrides, field):
    response = api.post(REGISTER, registration(**overrides), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["error"]
    assert field in body["fields"], body
    assert nothing_written()


@pytest.mark.parametrize("overrides", [{"username": "NEWBIE", "email": "other@example.com"},
                                       {"username": "other", "email": "NEWBIE@example.COM"}])
def test_a_duplicate_username_or_email_gets_a_400_whatever_the_case(api, brand, overrides):
    assert api.post(REGISTER, registration(), format="json").status_code == 201

    response = api.post(REGISTER, registration(**overrides), format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) & {"username", "email"}
    assert Player.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


@pytest.mark.parametrize("body", [None, [], "text", {"username": None}])
def test_a_malformed_body_gets_a_400(api, brand, body):
    response = api.post(REGISTER, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert nothing_written()


def test_login_records_the_login_issues_a_token_and_sends_login_v2(api, player):
    response = api.post("/api/v1/players/login", {"username": player.username, "password": PASSWORD},
                        format="json", REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="okhttp")

    assert response.status_code == 200
    token = response.json()["token"]
    login = PlayerLogin.objects.get(player=player)
    assert (login.ip_address, login.user_agent, login.channel, login.is_impersonated) == (
        "198.51.100.7", "okhttp", "api", False)
    event = OutboxEvent.objects.get(player_id=player.pk, event_type=EventType.LOGIN)
    assert event.payload["ip_address"] == "198.51.100.7"
    assert event.payload["is_impersonated"] is False
    assert PlayerToken.objects.get(player=player).key_hash != token  # stored hashed

    me = api.get("/api/v1/players/me", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200 and me.json()["username"] == player.username


def test_logging_in_by_email_works(api, player):
    response = api.post("/api/v1/players/login", {"username": player.email.upper(), "password": PASSWORD},
                        format="json")
    assert response.status_code == 200


def test_a_wrong_password_gets_a_401_and_records_nothing(api, player):
    response = api.post("/api/v1/players/login", {"username": player.username, "password": "nope"}, format="json")
    assert response.status_code == 401
    assert response.json() == {"error": "Wrong username or password.", "code": "invalid_credentials"}
    assert not PlayerLogin.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_repeated_wrong_passwords_lock_the_login_out(api, player, settings):
    settings.PLAYER_LOGIN_FAILURE_LIMIT = 3
    ip = "192.0.2.77"
    for _ in range(3):
        api.post("/api/v1/players/login", {"username": player.username, "password": "x"}, format="json",
                 REMOTE_ADDR=ip)
    response = api.post("/api/v1/players/login", {"username": player.username, "password": PASSWORD},
                        format="json", REMOTE_ADDR=ip)
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"


def test_login_answers_503_when_the_failure_counter_is_unreachable(api, player, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from players.services import auth

    def redis_down(*args, **kwargs):
        raise RedisConnectionError("Redis is down")

    monkeypatch.setattr(auth.cache, "get", redis_down)
    response = api.post("/api/v1/players/login", {"username": player.username, "password": PASSWORD}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "login_unavailable"
    assert not PlayerLogin.objects.exists()


def test_logout_revokes_the_token(api, player):
    token = api.post("/api/v1/players/login", {"username": player.username, "password": PASSWORD},
                     format="json").json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    assert api.post("/api/v1/players/logout", **auth).status_code == 204
    response = api.get("/api/v1/players/me", **auth)
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.parametrize("path", ["me", "me/consents", "me/limits", "me/self-exclusion", "me/timeout"])
def test_every_player_endpoint_needs_a_login(api, path):
    response = api.get(f"/api/v1/players/{path}")
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"error", "code"}


def test_a_player_updates_their_profile_and_the_crm_hears_of_it(player_api, player):
    response = player_api.patch("/api/v1/players/me", {"city": "Sliema", "mobile_prefix": "+356",
                                                       "mobile": "79123456"}, format="json")
    assert response.status_code == 200
    player.refresh_from_db()
    assert (player.city, player.mobile) == ("Sliema", "79123456")
    assert OutboxEvent.objects.filter(player_id=player.pk, event_type=EventType.USER_UPDATE).count() == 1


@pytest.mark.parametrize("body", [{"currency": "USD"}, {"email": "x@example.com"}, {"language": "zz"},
                                  {"mobile": "12ab"}])
def test_a_player_cannot_change_protected_or_bad_profile_fields(player_api, player, body):
    response = player_api.patch("/api/v1/players/me", body, format="json")
    assert response.status_code == 400
    player.refresh_from_db()
    assert player.currency == "EUR" and player.email.endswith("@example.com") and player.language == "en"
    assert not OutboxEvent.objects.exists()


def test_consents_read_and_change_through_the_api(player_api, player):
    body = player_api.get("/api/v1/players/me/consents").json()
    assert [item["type"] for item in body["consents"]] == [
        "email", "sms", "telephone", "postMail", "siteNotification", "pushNotification"]

    response = player_api.put("/api/v1/players/me/consents",
                              {"consents": [{"type": "sms", "opted_in": True}]}, format="json")
    assert response.status_code == 200
    assert {"type": "sms", "opted_in": True} in response.json()["consents"]
    assert ConsentChange.objects.get(player=player).source == "api"

    bad = player_api.put("/api/v1/players/me/consents", {"consents": [{"type": "fax", "opted_in": True}]},
                         format="json")
    assert bad.status_code == 400


def test_limits_through_the_api_show_the_cooling_off(player_api):
    player_api.post("/api/v1/players/me/limits", {"kind": "DEPOSIT", "period": "WEEK", "value": "200"},
                    format="json")
    response = player_api.post("/api/v1/players/me/limits", {"kind": "DEPOSIT", "period": "WEEK", "value": "900"},
                               format="json")
    assert response.status_code == 200
    (limit,) = response.json()
    assert limit["value"] == "200" and limit["pending_value"] == "900"
    assert limit["pending_effective_at"] is not None

    bad = player_api.post("/api/v1/players/me/limits", {"kind": "DEPOSIT", "period": "WEEK", "value": "1e999"},
                          format="json")
    assert bad.status_code == 400


def test_self_exclusion_and_time_out_through_the_api(player_api, player):
    response = player_api.post("/api/v1/players/me/timeout", {"hours": 24}, format="json")
    assert response.status_code == 201
    assert len(player_api.get("/api/v1/players/me/timeout").json()) == 1

    response = player_api.post("/api/v1/players/me/self-exclusion", {"until": None}, format="json")
    assert response.status_code == 201 and response.json()["ends_at"] is None
    again = player_api.post("/api/v1/players/me/self-exclusion", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_excluded"


def test_the_openapi_schema_documents_the_player_api(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/players/register" in paths and "/api/v1/players/me/limits" in paths
