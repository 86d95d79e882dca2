"""What the database itself says about rows of play: each is its session's (migration 0008)."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from games.models import GameRound, GameSession, GameTransaction, TransactionKind
from games.tests.factories import GameFactory, VendorFactory
from players.tests.factories import PlayerFactory


def checked_now():
    """Run the deferred foreign-key checks that a commit would run."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def round_row(session, **changes):
    values = {"vendor_id": session.vendor_id, "round_id": "r1", "player_id": session.player_id,
              "session": session, "game_id": session.game_id, "currency": "EUR"} | changes
    return GameRound.objects.create(**values)


def call_row(session, **changes):
    values = {"vendor_id": session.vendor_id, "external_id": "b1", "kind": TransactionKind.BET,
              "player_id": session.player_id, "session": session, "currency": "EUR", "amount": Decimal("1"),
              "real_amount": Decimal("1"), "request_hash": "h", "response": {}} | changes
    return GameTransaction.objects.create(**values)


@pytest.mark.django_db
def test_a_session_keeps_its_games_vendor(session_token, game):
    session, _ = session_token
    assert session.vendor_id == game.vendor_id
    with pytest.raises(IntegrityError), transaction.atomic():
        GameSession.objects.filter(pk=session.pk).update(vendor=VendorFactory(code="other"))
        checked_now()


@pytest.mark.django_db
def test_a_round_and_a_call_are_their_sessions_players_games_and_vendors(session_token, brand):
    session, _ = session_token
    round_row(session)
    call_row(session)
    checked_now()  # the session's own values pass

    other_player, other_game = PlayerFactory(brand=brand), GameFactory(vendor=VendorFactory(code="other"))
    for changes in ({"player_id": other_player.pk}, {"game_id": other_game.pk}, {"vendor_id": other_game.vendor_id}):
        with pytest.raises(IntegrityError), transaction.atomic():
            round_row(session, round_id="r2", **changes)
            checked_now()
    for changes in ({"player_id": other_player.pk}, {"vendor_id": other_game.vendor_id}):
        with pytest.raises(IntegrityError), transaction.atomic():
            call_row(session, external_id="b2", **changes)
            checked_now()


SESSION_KEYS = ("game_session_game_vendor_fk", "game_round_session_fk", "game_tx_session_fk")


def test_migration_0008_adds_the_session_keys_without_scanning_the_tables_under_its_lock():
    from importlib import import_module

    sql = import_module("games.migrations.0008_play_checked_against_its_session").COMPOSITE_KEYS
    statements = [statement for statement in sql.split(";") if "ADD CONSTRAINT" in statement]
    assert [name for name in SESSION_KEYS if any(name in statement for statement in statements)] == list(SESSION_KEYS)
    assert all(statement.rstrip().endswith("NOT VALID") for statement in statements)


@pytest.mark.django_db
def test_the_session_keys_are_validated_once_migrated():
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname, convalidated FROM pg_constraint WHERE conname = ANY(%s)", [list(SESSION_KEYS)])
        assert dict(cursor.fetchall()) == dict.fromkeys(SESSION_KEYS, True)
