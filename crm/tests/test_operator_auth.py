"""Who may call the Operator API: X-Api-Key, HTTP Basic, OAuth2 client credentials; keys hashed and revocable."""

import base64
import io
import stat
import time
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AuditEntry
from crm.models import OperatorApiKey
from crm.operator_api import services
from crm.operator_api.exceptions import OperatorKeyAlreadyRevoked, OperatorKeyNotFound
from crm.tests.fasttrack_schemas import errors
from players.services.auth import player_login
from players.tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(db):
    return services.operator_api_key_create(name="Fast Track")


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def details(player, **headers):
    return APIClient().get(f"/fasttrack/userdetails/{player.pk}", **headers)


def assert_refused(response):
    assert response.status_code == 401
    body = response.json()
    assert errors("error_handling", body) == []
    assert body == {"error": body["error"], "code": 401}
    assert "Basic" in response["WWW-Authenticate"] and "Bearer" in response["WWW-Authenticate"]
    assert "no-store" in response["Cache-Control"]
    return body


def token_for(issued, **extra) -> dict:
    response = APIClient().post("/fasttrack/oauth/token", {"grant_type": "client_credentials"},
                                HTTP_AUTHORIZATION=basic(issued.client_id, issued.secret), **extra)
    assert response.status_code == 200, response.content
    return response.json()


# -- the three schemes -----------------------------------------------------------------------------------

def test_a_request_without_credentials_is_refused_with_a_401_in_the_contract_shape(issued, player):
    for path in (f"/fasttrack/userdetails/{player.pk}", f"/fasttrack/userblocks/{player.pk}",
                 f"/fasttrack/userconsents/{player.pk}", f"/operator/user-details/{player.pk}"):
        assert_refused(APIClient().get(path))
    assert_refused(APIClient().post("/fasttrack/reconciliation", {"field": "blocked"}, format="json"))
    assert_refused(APIClient().post("/fasttrack/authenticate", {"sid": "x"}, format="json"))


def test_the_x_api_key_header_lets_fasttrack_in(issued, player):
    response = details(player, HTTP_X_API_KEY=issued.api_key)

    assert response.status_code == 200
    assert response.json()["user_id"] == str(player.pk)


@pytest.mark.parametrize("value", ["wrong", "op_nosuchclient.secret", "{client_id}.wrong-secret", "{client_id}",
                                   "{client_id}.", ".{secret}", ""])
def test_a_wrong_or_malformed_api_key_is_refused(issued, player, value):
    value = value.format(client_id=issued.client_id, secret=issued.secret)

    assert_refused(details(player, HTTP_X_API_KEY=value))


def test_http_basic_with_the_client_id_and_secret_lets_fasttrack_in(issued, player):
    response = details(player, HTTP_AUTHORIZATION=basic(issued.client_id, issued.secret))

    assert response.status_code == 200


@pytest.mark.parametrize("header", ["Basic not-base64!", "Basic " + base64.b64encode(b"no-colon").decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode()])
def test_a_garbled_basic_header_is_refused(issued, player, header):
    assert_refused(details(player, HTTP_AUTHORIZATION=header))


def test_http_basic_with_a_wrong_secret_is_refused(issued, player):
    assert_refused(details(player, HTTP_AUTHORIZATION=basic(issued.client_id, issued.secret + "x")))


def test_the_token_endpoint_issues_a_short_lived_bearer_token_that_opens_the_api(issued, player, settings):
    settings.OPERATOR_API_TOKEN_TTL_SECONDS = 600
    response = APIClient().post("/fasttrack/oauth/token", {"grant_type": "client_credentials"},
                                HTTP_AUTHORIZATION=basic(issued.client_id, issued.secret))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 600)
    assert issued.secret not in body["access_token"]
    assert "no-store" in response["Cache-Control"]
    assert details(player, HTTP_AUTHORIZATION=f"Bearer {body['access_token']}").status_code == 200


def test_the_token_endpoint_takes_the_credentials_in_the_form_body_too(issued, player):
    response = APIClient().post("/fasttrack/oauth/token", {
        "grant_type": "client_credentials", "client_id": issued.client_id, "client_secret": issued.secret})

    assert response.status_code == 200
    assert details(player, HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}").status_code == 200


def test_the_token_endpoint_takes_a_json_body(issued):
    response = APIClient().post("/fasttrack/oauth/token", {
        "grant_type": "client_credentials", "client_id": issued.client_id, "client_secret": issued.secret},
        format="json")

    assert response.status_code == 200


@pytest.mark.parametrize(("form", "authorization", "status", "error"), [
    ({"grant_type": "client_credentials"}, "wrong-secret", 401, "invalid_client"),
    ({"grant_type": "client_credentials"}, None, 401, "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "{client_id}", "client_secret": "nope"}, None, 401,
     "invalid_client"),
    ({"grant_type": "password"}, "good", 400, "unsupported_grant_type"),
    ({}, "good", 400, "invalid_request"),
    ({"grant_type": "client_credentials", "client_id": "{client_id}", "client_secret": "{secret}"}, "good", 400,
     "invalid_request"),
])
def test_the_token_endpoint_answers_oauth_errors_in_the_contract_shape(issued, form, authorization, status, error):
    form = {key: value.format(client_id=issued.client_id, secret=issued.secret) for key, value in form.items()}
    headers = {}
    if authorization:
        secret = issued.secret if authorization == "good" else "wrong"
        headers["HTTP_AUTHORIZATION"] = basic(issued.client_id, secret)

    response = APIClient().post("/fasttrack/oauth/token", form, **headers)

    assert response.status_code == status
    assert response.json() == {"error": error, "code": status}
    assert errors("error_handling", response.json()) == []


def test_a_bearer_token_is_refused_once_it_has_expired(issued, player, settings):
    settings.OPERATOR_API_TOKEN_TTL_SECONDS = 60
    token = token_for(issued)["access_token"]
    assert details(player, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    with time_machine.travel(time.time() + 61, tick=False):
        assert_refused(details(player, HTTP_AUTHORIZATION=f"Bearer {token}"))


def test_a_tampered_or_foreign_bearer_token_is_refused(issued, player):
    token = token_for(issued)["access_token"]
    payload, timestamp, signature = token.rsplit(".", 2)

    for forged in (f"{payload}.{timestamp}.{signature[:-2]}xx", f"{payload}x.{timestamp}.{signature}", "abc",
                   issued.api_key):
        assert_refused(details(player, HTTP_AUTHORIZATION=f"Bearer {forged}"))


def test_a_players_own_api_token_does_not_open_the_operator_api(issued, player):
    token = player_login(identifier=player.username, password=PASSWORD, ip_address=None, issue_token=True).token

    assert_refused(details(player, HTTP_AUTHORIZATION=f"Token {token}"))
    assert_refused(details(player, HTTP_AUTHORIZATION=f"Bearer {token}"))


# -- storage, revocation, last use -------------------------------------------------------------------------

def test_a_key_is_stored_with_only_a_hash_of_its_secret(issued):
    row = OperatorApiKey.objects.values().get(pk=issued.key.pk)

    assert issued.secret not in str(row)
    assert row["secret_hash"].startswith("sha256$")
    assert len(issued.secret) >= 40
    entry = AuditEntry.objects.get(action="crm.operator_api_key_create")
    assert issued.secret not in str(entry.after)


def test_revoking_a_key_shuts_all_three_schemes_and_its_live_tokens_at_once(issued, player, compliance):
    token = token_for(issued)["access_token"]
    assert details(player, HTTP_X_API_KEY=issued.api_key).status_code == 200
    assert details(player, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200

    services.operator_api_key_revoke(client_id=issued.client_id, actor=compliance, reason="Contract ended")

    assert_refused(details(player, HTTP_X_API_KEY=issued.api_key))
    assert_refused(details(player, HTTP_AUTHORIZATION=basic(issued.client_id, issued.secret)))
    assert_refused(details(player, HTTP_AUTHORIZATION=f"Bearer {token}"))
    response = APIClient().post("/fasttrack/oauth/token", {"grant_type": "client_credentials"},
                                HTTP_AUTHORIZATION=basic(issued.client_id, issued.secret))
    assert response.json() == {"error": "invalid_client", "code": 401}


def test_a_staff_revocation_is_audited_with_who_and_why(issued, compliance):
    assert not AuditEntry.objects.filter(action="crm.operator_api_key_revoke").exists()

    key = services.operator_api_key_revoke(client_id=issued.client_id, actor=compliance, reason="Leaked")

    assert key.revoked_at is not None and not key.is_active
    entry = AuditEntry.objects.get(action="crm.operator_api_key_revoke")
    assert (entry.actor, entry.reason, entry.target_id) == (compliance, "Leaked", str(key.pk))
    assert entry.before == {"revoked_at": None}


def test_a_key_cannot_be_revoked_twice_nor_an_unknown_one(issued):
    services.operator_api_key_revoke(client_id=issued.client_id)
    revoked_at = OperatorApiKey.objects.get(pk=issued.key.pk).revoked_at

    with pytest.raises(OperatorKeyAlreadyRevoked):
        services.operator_api_key_revoke(client_id=issued.client_id)
    with pytest.raises(OperatorKeyNotFound):
        services.operator_api_key_revoke(client_id="op_nope")
    assert OperatorApiKey.objects.get(pk=issued.key.pk).revoked_at == revoked_at
    assert AuditEntry.objects.filter(action="crm.operator_api_key_revoke").count() == 1


def test_the_last_use_of_a_key_is_recorded_about_once_a_minute(issued, player):
    assert OperatorApiKey.objects.get(pk=issued.key.pk).last_used_at is None

    details(player, HTTP_X_API_KEY=issued.api_key)
    first = OperatorApiKey.objects.get(pk=issued.key.pk).last_used_at
    details(player, HTTP_X_API_KEY=issued.api_key)
    assert OperatorApiKey.objects.get(pk=issued.key.pk).last_used_at == first
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        details(player, HTTP_X_API_KEY=issued.api_key)
    assert OperatorApiKey.objects.get(pk=issued.key.pk).last_used_at > first


def test_staff_revoke_a_key_from_the_admin_with_a_reason(issued):
    admin_user = User.objects.create_superuser("boss", "boss@example.com", "staff-pass-123")
    browser = APIClient()
    browser.force_login(admin_user)
    url = "/admin/crm/operatorapikey/"
    assert issued.client_id in browser.get(url).content.decode()

    response = browser.post(url, {"action": "revoke", "_selected_action": [issued.key.pk], "apply": "1",
                                  "reason": "Rotated"})

    assert response.status_code in (200, 302)
    key = OperatorApiKey.objects.get(pk=issued.key.pk)
    assert key.revoked_at is not None
    entry = AuditEntry.objects.get(action="crm.operator_api_key_revoke")
    assert (entry.actor, entry.reason) == (admin_user, "Rotated")


# -- the management command ---------------------------------------------------------------------------

def run(*args) -> str:
    out = io.StringIO()
    call_command("operator_api_key", *args, stdout=out)
    return out.getvalue()


def test_create_prints_a_working_secret_once_and_list_never_shows_it(player):
    output = run("create", "Fast Track staging")

    key = OperatorApiKey.objects.get(name="Fast Track staging")
    api_key = next(line.split(":", 1)[1].strip() for line in output.splitlines() if "X-Api-Key" in line)
    assert api_key.startswith(key.client_id + ".")
    assert details(player, HTTP_X_API_KEY=api_key).status_code == 200
    listing = run("list")
    assert key.client_id in listing and "active" in listing
    assert api_key.split(".", 1)[1] not in listing


def test_revoke_from_the_command_line_is_audited_and_refuses_bad_ids(issued):
    run("revoke", issued.client_id, "--reason", "rotation")

    assert OperatorApiKey.objects.get(pk=issued.key.pk).revoked_at is not None
    assert AuditEntry.objects.get(action="crm.operator_api_key_revoke").actor_label == "manage.py operator_api_key"
    assert "revoked" in run("list")
    with pytest.raises(CommandError):
        run("revoke", issued.client_id)
    with pytest.raises(CommandError):
        run("revoke", "op_unknown")


def test_create_refuses_an_empty_name():
    with pytest.raises(CommandError):
        run("create", "  ")
    assert not OperatorApiKey.objects.exists()


def test_ensure_creates_a_key_once_and_then_reuses_it_from_a_private_file(tmp_path, player):
    path = tmp_path / "sim.env"

    first = run("ensure", "fasttrack-simulator", "--credentials-file", str(path), "--print-env")
    second = run("ensure", "fasttrack-simulator", "--credentials-file", str(path), "--print-env")

    assert first == second
    values = dict(line.split("=", 1) for line in first.splitlines())
    assert set(values) == {"FT_SIM_CLIENT_ID", "FT_SIM_SECRET"}
    assert OperatorApiKey.objects.filter(name="fasttrack-simulator").count() == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert details(player, HTTP_AUTHORIZATION=basic(values["FT_SIM_CLIENT_ID"], values["FT_SIM_SECRET"])
                   ).status_code == 200


def test_ensure_replaces_a_key_that_was_revoked(tmp_path):
    path = tmp_path / "sim.env"
    first, created = services.operator_api_key_ensure(name="fasttrack-simulator", credentials_path=path)
    assert created
    services.operator_api_key_revoke(client_id=first.client_id)

    second, created = services.operator_api_key_ensure(name="fasttrack-simulator", credentials_path=path)

    assert created and second.client_id != first.client_id
    assert f"CLIENT_ID={second.client_id}" in path.read_text()
    assert OperatorApiKey.objects.filter(name="fasttrack-simulator", revoked_at__isnull=True).count() == 1
