"""The Operator API Fast Track calls: answers checked against Fast Track's published schemas."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from crm.models import EventType, OutboxEvent
from crm.operator_api.services import operator_api_key_create
from crm.tests.fasttrack_schemas import errors
from players.models import ConsentChange, PlayerRole
from players.services.auth import player_login, player_token_revoke
from players.services.blocks import player_block, player_self_exclude, player_timeout
from players.tests.factories import PASSWORD, PlayerFactory

pytestmark = pytest.mark.django_db

CONSENT_TYPES = ["email", "sms", "telephone", "postMail", "siteNotification", "pushNotification"]


@pytest.fixture
def operator_key(db):
    return operator_api_key_create(name="Fast Track")


@pytest.fixture
def ft_api(operator_key):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=operator_key.api_key)
    return client


def assert_contract_error(response, status):
    assert response.status_code == status
    body = response.json()
    assert errors("error_handling", body) == []
    assert body["code"] == status
    assert "no-store" in response["Cache-Control"]
    return body


# -- userdetails ---------------------------------------------------------------------------------------

def test_userdetails_of_a_sparse_player_has_every_contract_key_and_empty_strings_not_nulls(ft_api, player):
    response = ft_api.get(f"/fasttrack/userdetails/{player.pk}")

    assert response.status_code == 200
    body = response.json()
    assert errors("user_details", body) == []
    assert None not in body.values()
    assert body["user_id"] == str(player.pk)
    assert (body["username"], body["email"], body["first_name"], body["last_name"]) == (
        player.username, player.email, "Mia", "Vella")
    assert (body["title"], body["sex"], body["verified_at"], body["mobile"], body["address"]) == ("", "", "", "", "")
    assert (body["birth_date"], body["country"], body["currency"], body["language"]) == (
        "1990-05-17", "MT", "EUR", "en")
    assert body["origin"] == "test-casino.example"
    assert body["registration_date"] == player.registered_at.astimezone(UTC).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    assert (body["is_blocked"], body["is_excluded"], body["roles"]) == (False, False, [])
    assert "segmentation" not in body


def test_userdetails_of_a_verified_vip_carries_roles_sex_and_the_verification_time(ft_api, brand):
    verified = datetime(2026, 3, 2, 8, 27, 58, tzinfo=UTC)
    player = PlayerFactory(brand=brand, sex="female", title="Ms", verified_at=verified, roles=[PlayerRole.VIP],
                           mobile_prefix="+356", mobile="79123456", affiliate_reference="aff-9")

    body = ft_api.get(f"/fasttrack/userdetails/{player.pk}").json()

    assert errors("user_details", body) == []
    assert (body["sex"], body["title"], body["roles"]) == ("female", "Ms", ["VIP"])
    assert body["verified_at"] == "2026-03-02T08:27:58.000Z"
    assert (body["mobile_prefix"], body["mobile"], body["affiliate_reference"]) == ("+356", "79123456", "aff-9")


def test_userdetails_shows_the_block_and_the_exclusion_in_force(ft_api, player, compliance):
    before = ft_api.get(f"/fasttrack/userdetails/{player.pk}").json()
    player_block(player=player, reason="Chargeback fraud", actor_user=compliance)
    player_self_exclude(player=player, until=None)

    after = ft_api.get(f"/fasttrack/userdetails/{player.pk}").json()

    assert (before["is_blocked"], before["is_excluded"]) == (False, False)
    assert (after["is_blocked"], after["is_excluded"]) == (True, True)
    assert errors("user_details", after) == []


@pytest.mark.parametrize("user_id", ["999999", "abc", "99999999999999999999999", "-1"])
def test_an_unknown_user_is_a_404_in_the_contracts_error_shape(ft_api, player, user_id):
    for tail in ("userdetails", "userblocks", "userconsents"):
        body = assert_contract_error(ft_api.get(f"/fasttrack/{tail}/{user_id}"), 404)
        assert body["error"] == "User not found."


# -- userblocks ------------------------------------------------------------------------------------------

def test_userblocks_always_lists_blocked_and_excluded_with_their_notes(ft_api, player, compliance):
    before = ft_api.get(f"/fasttrack/userblocks/{player.pk}").json()
    player_block(player=player, reason="Chargeback fraud", actor_user=compliance)

    response = ft_api.get(f"/fasttrack/userblocks/{player.pk}")

    assert before == {"blocks": [{"type": "Blocked", "active": False, "note": ""},
                                 {"type": "Excluded", "active": False, "note": ""}]}
    assert response.status_code == 200
    assert response.json() == {"blocks": [{"type": "Blocked", "active": True, "note": "Chargeback fraud"},
                                          {"type": "Excluded", "active": False, "note": ""}]}
    assert errors("user_blocks", response.json()) == []
    assert "no-store" in response["Cache-Control"]


def test_userblocks_show_a_time_out_as_an_exclusion(ft_api, player):
    player_timeout(player=player, duration=timedelta(days=2))

    body = ft_api.get(f"/fasttrack/userblocks/{player.pk}").json()

    assert {block["type"]: block["active"] for block in body["blocks"]} == {"Blocked": False, "Excluded": True}


# -- userconsents ----------------------------------------------------------------------------------------

def test_userconsents_lists_all_six_channels_in_the_contracts_order(ft_api, player):
    player.consent_email = True
    player.consent_push_notification = True
    player.save()

    response = ft_api.get(f"/fasttrack/userconsents/{player.pk}")

    assert response.status_code == 200
    body = response.json()
    assert errors("user_consents", body) == []
    assert [item["type"] for item in body["consents"]] == CONSENT_TYPES
    assert {item["type"]: item["opted_in"] for item in body["consents"]} == {
        "email": True, "sms": False, "telephone": False, "postMail": False, "siteNotification": False,
        "pushNotification": True}


def test_an_unsubscribe_from_fasttrack_changes_the_consent_with_history_audit_and_event(ft_api, player):
    player.consent_email = True
    player.save()
    assert not OutboxEvent.objects.filter(event_type=EventType.USER_CONSENTS).exists()
    body = {"consents": [{"type": "email", "opted_in": False}]}
    assert errors("post_user_consents", body) == []

    response = ft_api.post(f"/fasttrack/userconsents/{player.pk}", body, format="json")

    assert response.status_code == 200
    assert errors("user_consents", response.json()) == []
    assert {item["type"]: item["opted_in"] for item in response.json()["consents"]}["email"] is False
    player.refresh_from_db()
    assert player.consent_email is False
    change = ConsentChange.objects.get(player=player)
    assert (change.channel, change.opted_in, change.actor_kind, change.source) == ("email", False, "crm", "fasttrack")
    audit = AuditEntry.objects.get(action="player.consents_set")
    assert (audit.actor, audit.actor_label, audit.before, audit.after) == (
        None, "fasttrack", {"email": True}, {"email": False})
    event = OutboxEvent.objects.get(event_type=EventType.USER_CONSENTS)
    assert event.player_id == player.pk
    assert errors("user_consents_v2", event.payload) == []


def test_an_unsubscribe_of_a_consent_already_off_changes_nothing_and_sends_nothing(ft_api, player):
    response = ft_api.post(f"/fasttrack/userconsents/{player.pk}",
                              {"consents": [{"type": "sms", "opted_in": False}]}, format="json")

    assert response.status_code == 200
    assert not ConsentChange.objects.exists()
    assert not OutboxEvent.objects.filter(event_type=EventType.USER_CONSENTS).exists()


@pytest.mark.parametrize("body", [
    {"consents": [{"type": "fax", "opted_in": False}]},
    {"consents": [{"type": "email", "opted_in": "no"}]},
    {"consents": [{"type": "email", "opted_in": 0}]},
    {"consents": [{"type": "email"}]},
    {"consents": []},
    {"consents": [{"type": "email", "opted_in": False}, {"type": "email", "opted_in": True}]},
    {"consents": [{"type": "email", "opted_in": False}], "extra": 1},
    {},
    ["email"],
])
def test_a_malformed_consent_change_is_a_400_and_writes_nothing(ft_api, player, body):
    player.consent_email = True
    player.save()
    audit_rows = AuditEntry.objects.count()  # the key's creation

    response = ft_api.post(f"/fasttrack/userconsents/{player.pk}", body, format="json")

    error = assert_contract_error(response, 400)
    assert error["error"].startswith("Invalid input")
    player.refresh_from_db()
    assert player.consent_email is True
    assert not ConsentChange.objects.exists()
    assert AuditEntry.objects.count() == audit_rows
    assert not OutboxEvent.objects.exists()


def test_a_body_that_is_not_json_is_a_400_in_the_contract_shape(ft_api, player):
    response = ft_api.post(f"/fasttrack/userconsents/{player.pk}", "{not json", content_type="application/json")

    assert_contract_error(response, 400)


def test_a_consent_change_for_an_unknown_user_is_a_404(ft_api, player):
    response = ft_api.post("/fasttrack/userconsents/999999", {"consents": [{"type": "email", "opted_in": True}]},
                              format="json")

    assert_contract_error(response, 404)
    assert not ConsentChange.objects.exists()


# -- reconciliation --------------------------------------------------------------------------------------

@pytest.fixture
def cast(brand, compliance):
    """Four players: blocked, self-excluded, e-mail and push opted in, and one with nothing set."""
    blocked, excluded, opted_in, plain = (PlayerFactory(brand=brand) for _ in range(4))
    player_block(player=blocked, reason="Fraud", actor_user=compliance)
    player_self_exclude(player=excluded, until=timezone.now() + timedelta(days=60))
    opted_in.consent_email = opted_in.consent_push_notification = True
    opted_in.save()
    return {"blocked": blocked, "excluded": excluded, "opted_in": opted_in, "plain": plain}


@pytest.mark.parametrize(("field", "who"), [
    ("blocked", ["blocked"]),
    ("excluded", ["excluded"]),
    ("consent_email", ["opted_in"]),
    ("consent_push_notification", ["opted_in"]),
    ("consent_sms", []),
    ("consent_telephone", []),
    ("consent_post_mail", []),
    ("consent_site_notification", []),
])
def test_reconciliation_answers_only_the_users_for_whom_the_field_is_true(ft_api, cast, field, who):
    response = ft_api.post("/fasttrack/reconciliation", {"field": field}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"users", "timestamp"}
    assert body["users"] == sorted((str(cast[name].pk) for name in who), key=int)
    assert all(isinstance(user_id, str) for user_id in body["users"])
    assert errors("user_create_v2", {"user_id": "1", "origin": "x", "timestamp": body["timestamp"]}) == []
    assert "no-store" in response["Cache-Control"]


def test_reconciliation_of_an_unknown_field_is_a_501(ft_api, cast):
    body = assert_contract_error(ft_api.post("/fasttrack/reconciliation", {"field": "vip"}, format="json"), 501)
    assert "vip" in body["error"]


def test_reconciliation_without_a_field_is_a_400(ft_api):
    assert_contract_error(ft_api.post("/fasttrack/reconciliation", {}, format="json"), 400)


# -- authenticate ----------------------------------------------------------------------------------------

def test_authenticate_maps_a_player_api_token_to_its_user_id(ft_api, player):
    token = player_login(identifier=player.username, password=PASSWORD, ip_address=None, issue_token=True).token

    response = ft_api.post("/fasttrack/authenticate", {"sid": token}, format="json")

    assert response.status_code == 200
    assert response.json() == {"user_id": str(player.pk)}


def test_authenticate_maps_a_site_session_key_to_its_user_id(ft_api, player):
    browser = Client()
    assert browser.post("/login", {"username": player.username, "password": PASSWORD}).status_code == 302
    sid = browser.cookies["sessionid"].value

    response = ft_api.post("/fasttrack/authenticate", {"sid": sid}, format="json")

    assert response.status_code == 200
    assert response.json() == {"user_id": str(player.pk)}


def test_authenticate_refuses_a_revoked_token_an_ended_session_and_garbage(ft_api, player):
    token = player_login(identifier=player.username, password=PASSWORD, ip_address=None, issue_token=True).token
    player_token_revoke(key=token)
    browser = Client()
    browser.post("/login", {"username": player.username, "password": PASSWORD})
    sid = browser.cookies["sessionid"].value
    browser.post("/logout")

    for value in (token, sid, "no-such-session"):
        body = assert_contract_error(ft_api.post("/fasttrack/authenticate", {"sid": value}, format="json"), 404)
        assert "user_id" not in body
    assert_contract_error(ft_api.post("/fasttrack/authenticate", {}, format="json"), 400)


# -- paths, aliases, caching -------------------------------------------------------------------------------

def test_the_guides_paths_answer_exactly_what_the_contract_paths_answer(ft_api, player):
    for guide, contract in (("user-details", "userdetails"), ("player-blocks", "userblocks"),
                            ("consents", "userconsents")):
        alias = ft_api.get(f"/operator/{guide}/{player.pk}")
        assert alias.status_code == 200
        assert alias.json() == ft_api.get(f"/fasttrack/{contract}/{player.pk}").json()
        assert "no-store" in alias["Cache-Control"]


def test_the_guides_consents_path_also_takes_the_unsubscribe(ft_api, player):
    player.consent_sms = True
    player.save()

    response = ft_api.post(f"/operator/consents/{player.pk}", {"consents": [{"type": "sms", "opted_in": False}]},
                              format="json")

    assert response.status_code == 200
    player.refresh_from_db()
    assert player.consent_sms is False


def test_an_unknown_path_or_method_answers_in_the_contract_shape(ft_api, player):
    assert_contract_error(ft_api.get("/fasttrack/no-such-endpoint"), 404)
    assert_contract_error(ft_api.get("/operator/no-such-endpoint"), 404)
    assert_contract_error(ft_api.delete(f"/fasttrack/userdetails/{player.pk}"), 405)
    assert_contract_error(ft_api.get("/fasttrack/reconciliation"), 405)


def test_the_openapi_schema_documents_the_operator_api_and_its_three_schemes(api):
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert "/fasttrack/userdetails/{user_id}" in schema["paths"]
    assert {"operatorApiKey", "operatorBasic", "operatorOAuth2"} <= set(schema["components"]["securitySchemes"])
