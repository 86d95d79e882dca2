"""Back-office screens of the games, the staff action, the demo seed and the documented contract."""

import pytest
from django.core.management import call_command
from django.test import Client

from audit.models import AuditEntry
from crm.models import EventType, OutboxEvent
from games.models import Game, GameSession, SessionStatus, Vendor
from games.tests.factories import launch, signed_post

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_compliance_browses_sessions_rounds_and_provider_calls(compliance, provider, session_token):
    session, token = session_token
    signed_post(provider, "bet", {"token": token, "transaction_id": "bet-42", "round_id": "r-42", "amount": "1.00",
                                  "currency": "EUR"})
    client = logged_in(compliance)
    for url in ("/admin/games/gamesession/", f"/admin/games/gamesession/{session.pk}/change/",
                "/admin/games/gameround/", "/admin/games/gametransaction/", "/admin/games/game/",
                "/admin/games/gamesession/?q=not-a-number"):
        assert client.get(url).status_code == 200, url
    found = client.get("/admin/games/gametransaction/?q=bet-42")
    assert b"bet-42" in found.content
    from games.models import GameTransaction

    record = GameTransaction.objects.get(external_id="bet-42")
    detail = client.get(f"/admin/games/gametransaction/{record.pk}/change/")
    assert detail.status_code == 200 and b"Game bet #" in detail.content
    assert token.encode() not in client.get(f"/admin/games/gamesession/{session.pk}/change/").content


def test_compliance_ends_a_session_with_a_reason_through_the_service(compliance, session_token, funded):
    session, _ = session_token
    response = logged_in(compliance).post("/admin/games/gamesession/", {
        "action": "end_sessions", "_selected_action": [session.pk], "apply": "1", "reason": "RG concern"},
        follow=True)
    assert response.status_code == 200
    session.refresh_from_db()
    assert session.status == SessionStatus.CLOSED and "RG concern" in session.end_reason
    entry = AuditEntry.objects.get(action="games.session_end")
    assert (entry.actor, entry.reason, entry.target_id) == (compliance, "RG concern", str(session.pk))
    ended = OutboxEvent.objects.filter(player_id=funded.pk, event_type=EventType.CUSTOM).order_by("id").last()
    assert ended.payload["notification_type"] == "game_session_ended"


def test_ending_a_session_without_a_reason_asks_again_and_changes_nothing(compliance, session_token):
    session, _ = session_token
    logged_in(compliance).post("/admin/games/gamesession/", {
        "action": "end_sessions", "_selected_action": [session.pk], "apply": "1", "reason": ""})
    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE and not AuditEntry.objects.exists()


def test_support_sees_sessions_but_cannot_end_them_or_edit_the_catalog(support, session_token, game):
    session, _ = session_token
    client = logged_in(support)
    assert client.get("/admin/games/gamesession/").status_code == 200
    assert client.get("/admin/games/vendor/").status_code == 403
    client.post("/admin/games/gamesession/", {"action": "end_sessions", "_selected_action": [session.pk],
                                               "apply": "1", "reason": "no"})
    session.refresh_from_db()
    assert session.status == SessionStatus.ACTIVE
    assert client.post(f"/admin/games/game/{game.pk}/change/", {"name": "Renamed"}).status_code == 403


def test_the_demo_seed_creates_the_demo_vendor_and_games_once(settings):
    settings.GAME_DEMO_PROVIDER_URL = "http://127.0.0.1:8200"
    call_command("games_seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("games_seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    vendor = Vendor.objects.get(code="demo")
    assert vendor.launch_url == "http://127.0.0.1:8200/game"
    assert Game.objects.filter(vendor=vendor).count() == 3


def test_the_openapi_schema_documents_the_seamless_operations_and_their_error_codes(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    for operation in ("authenticate", "balance", "bet", "win", "rollback", "bet-win"):
        assert f"/wallet-api/v1/{operation}" in schema["paths"]
    bet = schema["paths"]["/wallet-api/v1/bet"]["post"]
    described = " ".join(answer.get("description", "") for answer in bet["responses"].values())
    for code in ("INSUFFICIENT_FUNDS", "PLAYER_BLOCKED", "LIMIT_REACHED", "INVALID_SIGNATURE",
                 "DUPLICATE_TRANSACTION", "SESSION_EXPIRED", "TRANSACTION_ROLLED_BACK", "REQUEST_REPLAYED"):
        assert code in described, code
    rollback = schema["paths"]["/wallet-api/v1/rollback"]["post"]
    assert "TRANSACTION_NOT_FOUND" in " ".join(answer.get("description", "") for answer in
                                               rollback["responses"].values())
    assert {"X-Signature", "X-Timestamp", "X-Nonce", "X-Provider"} <= {
        parameter["name"] for parameter in bet["parameters"]}
    assert "/api/v1/games/{game_id}/launch" in schema["paths"]


def test_a_session_end_by_staff_needs_the_session_to_exist(compliance, player, game):
    from games.exceptions import SessionNotFound
    from games.services.sessions import game_session_end_by_staff

    with pytest.raises(SessionNotFound):
        game_session_end_by_staff(session_id=999999, actor=compliance, reason="x")
    session, _ = launch(player, game)
    game_session_end_by_staff(session_id=session.pk, actor=compliance, reason="x")
    assert GameSession.objects.get(pk=session.pk).status == SessionStatus.CLOSED
