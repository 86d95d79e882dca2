import pytest
from django.db import IntegrityError, InternalError, transaction
from django.test import Client

from audit.models import AuditEntry
from crm.models import EventType, OutboxEvent
from players.models import AccountStatus, KycStatus, PlayerBlock, PlayerLogin, PlayerNote
from players.tests.factories import PlayerFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/players/player/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_action(client, action, players, **fields):
    data = {"action": action, "_selected_action": [p.pk for p in players], "apply": "1", **fields}
    return client.post(CHANGELIST, data, follow=True)


def test_compliance_blocks_a_player_with_a_reason_through_the_service(compliance, player):
    response = run_action(logged_in(compliance), "block_players", [player], reason="AML review", until="")

    assert response.status_code == 200
    player.refresh_from_db()
    assert player.status == AccountStatus.BLOCKED
    block = PlayerBlock.objects.get(player=player)
    assert block.reason == "AML review" and block.created_by == compliance
    entry = AuditEntry.objects.get(action="player.block")
    assert (entry.actor, entry.reason, entry.target_id) == (compliance, "AML review", str(player.pk))
    assert OutboxEvent.objects.filter(player_id=player.pk, event_type=EventType.USER_BLOCK).count() == 1


def test_an_action_without_a_reason_asks_again_and_changes_nothing(compliance, player):
    response = run_action(logged_in(compliance), "block_players", [player], reason="")

    assert response.status_code == 200
    assert b"This field is required" in response.content
    player.refresh_from_db()
    assert player.status == AccountStatus.ACTIVE
    assert not AuditEntry.objects.exists()


def test_compliance_sets_the_kyc_status_and_verified_at_is_stamped(compliance, player):
    run_action(logged_in(compliance), "set_kyc_status", [player], status=KycStatus.VERIFIED, reason="docs ok")

    player.refresh_from_db()
    assert player.kyc_status == KycStatus.VERIFIED and player.verified_at is not None
    assert AuditEntry.objects.get(action="player.kyc_set").after["kyc_status"] == "VERIFIED"


def test_marketing_can_read_players_but_cannot_block_them(marketing, player):
    client = logged_in(marketing)
    assert client.get(CHANGELIST).status_code == 200

    run_action(client, "block_players", [player], reason="not allowed")

    player.refresh_from_db()
    assert player.status == AccountStatus.ACTIVE
    assert not PlayerBlock.objects.exists()
    assert client.get(f"{CHANGELIST}{player.pk}/change/").status_code == 200
    assert client.post(f"{CHANGELIST}{player.pk}/change/", {"city": "x"}).status_code == 403


def test_support_cannot_block_or_set_kyc(support, player):
    client = logged_in(support)
    run_action(client, "block_players", [player], reason="x")
    run_action(client, "set_kyc_status", [player], status=KycStatus.VERIFIED, reason="x")
    player.refresh_from_db()
    assert player.status == AccountStatus.ACTIVE and player.kyc_status == KycStatus.NOT_STARTED


def test_support_adds_a_note_and_it_is_audited(support, player):
    run_action(logged_in(support), "add_note", [player], reason="called about a bonus")
    note = PlayerNote.objects.get(player=player)
    assert (note.author, note.text) == (support, "called about a bonus")
    assert AuditEntry.objects.filter(action="player.note_add", actor=support).exists()


def test_support_impersonates_a_player_and_the_login_is_marked(support, player):
    client = logged_in(support)
    response = client.post(f"{CHANGELIST}{player.pk}/impersonate/")

    assert response.status_code == 302 and response["Location"] == "/profile"
    login = PlayerLogin.objects.get(player=player)
    assert login.impersonated_by == support
    event = OutboxEvent.objects.get(player_id=player.pk, event_type=EventType.LOGIN)
    assert event.payload["is_impersonated"] is True
    assert AuditEntry.objects.filter(action="player.impersonate", actor=support).exists()
    assert client.get("/profile").status_code == 200


def test_marketing_cannot_impersonate(marketing, player):
    response = logged_in(marketing).post(f"{CHANGELIST}{player.pk}/impersonate/")
    assert response.status_code == 403
    assert not PlayerLogin.objects.exists()


def test_a_staff_profile_edit_goes_through_the_service_and_is_audited(support, player):
    client = logged_in(support)
    page = client.get(f"{CHANGELIST}{player.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update({"city": "Mdina", "birth_date": player.birth_date.isoformat()})
    for inline in page.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})

    response = client.post(f"{CHANGELIST}{player.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    player.refresh_from_db()
    assert player.city == "Mdina"
    entry = AuditEntry.objects.get(action="player.profile_update")
    assert entry.before == {"city": ""} and entry.after == {"city": "Mdina"}
    assert OutboxEvent.objects.filter(player_id=player.pk, event_type=EventType.USER_UPDATE).exists()


def test_search_finds_players_by_id_email_username_prefix_and_mobile(support):
    target = PlayerFactory(username="zorro.vella", email="zorro@example.com", mobile="79000111", last_name="Vella")
    PlayerFactory(username="other")
    client = logged_in(support)

    for query in (str(target.pk), "ZORRO@example.com", "zorr", "79000111"):
        response = client.get(CHANGELIST, {"q": query})
        assert list(response.context["cl"].result_list) == [target], query


def test_the_player_list_filters_by_blocked(compliance, player):
    other = PlayerFactory()
    run_action(logged_in(compliance), "block_players", [player], reason="fraud", until="")
    response = logged_in(compliance).get(CHANGELIST, {"flag": "blocked"})
    assert list(response.context["cl"].result_list) == [player]
    assert other not in response.context["cl"].result_list


def test_audit_rows_are_read_only_in_the_admin_and_in_the_database(compliance, player):
    run_action(logged_in(compliance), "block_players", [player], reason="AML", until="")
    entry = AuditEntry.objects.get()
    admin_client = logged_in(compliance)

    assert admin_client.get(f"/admin/audit/auditentry/{entry.pk}/change/").status_code == 200
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"reason": "x"}).status_code == 403
    assert admin_client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    with pytest.raises((InternalError, IntegrityError)), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(reason="rewritten")
    with pytest.raises((InternalError, IntegrityError)), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    entry.refresh_from_db()
    assert entry.reason == "AML"


def test_staff_login_is_locked_out_after_repeated_failures(compliance, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": compliance.username, "password": "wrong"})
    response = client.post("/admin/login/?next=/admin/", {"username": compliance.username,
                                                          "password": "staff-pass-123"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
