"""The hot path's SQL means what the ORM it replaces means (games/services/hot_sql.py)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from games.models import GameSession
from games.selectors import token_hash
from games.services import hot_sql
from players.models import ActorKind, BlockKind, LimitKind, LimitPeriod, PlayerBlock
from players.services import limits

pytestmark = pytest.mark.django_db


def locked(token: str):
    with transaction.atomic():
        return hot_sql.session_lock(token_hash=token_hash(token), now=timezone.now())


def test_the_session_lock_reads_the_session_and_its_player_as_the_orm_does(session_token, funded):
    session, token = session_token
    row = locked(token)
    orm = GameSession.objects.select_related("player").get(pk=session.pk)
    for field in GameSession._meta.concrete_fields:
        assert getattr(row, field.attname) == getattr(orm, field.attname), field.name
    for field in type(funded)._meta.concrete_fields:
        assert getattr(row.player, field.attname) == getattr(orm.player, field.attname), field.name
    assert locked("no-such-token") is None


# (starts, ends, lifted) in minutes from now, and whether the block is active. The fast path's SQL
# (test_fast_path) is checked against the same cases.
BLOCK_CASES = [
    (-60, None, None, True),      # indefinite, running
    (-60, 60, None, True),        # with an end ahead
    (-120, -60, None, False),     # ended
    (60, 120, None, False),       # not started
    (-60, None, -30, False),      # lifted
    (-60, None, 30, True),        # lift scheduled later
]


def block_create(player, starts, ends, lifted):
    """A block of the player, its times in minutes from now; returns now."""
    now = timezone.now()
    minutes = lambda value: None if value is None else now + timedelta(minutes=value)  # noqa: E731
    PlayerBlock.objects.create(player=player, kind=BlockKind.OPERATOR, reason="test", starts_at=minutes(starts),
                               ends_at=minutes(ends), lifted_at=minutes(lifted), created_by_kind=ActorKind.STAFF)
    return now


@pytest.mark.parametrize(("starts", "ends", "lifted", "active"), BLOCK_CASES)
def test_the_active_block_rule_in_sql_is_the_players_apps_rule(session_token, funded, starts, ends, lifted, active):
    _, token = session_token
    now = block_create(funded, starts, ends, lifted)
    assert PlayerBlock.objects.active(now).filter(player=funded).exists() is active
    assert locked(token).player_has_blocks is active


def test_the_money_limit_flag_is_set_by_a_loss_or_wager_limit_only(session_token, funded):
    _, token = session_token
    assert locked(token).player_has_money_limits is False
    limits.player_limit_set(player=funded, kind=LimitKind.DEPOSIT, period=LimitPeriod.DAY, value="50")
    limits.player_limit_set(player=funded, kind=LimitKind.REALITY_CHECK, value="30")
    assert locked(token).player_has_money_limits is False
    limits.player_limit_set(player=funded, kind=LimitKind.WAGER, period=LimitPeriod.MONTH, value="500")
    assert locked(token).player_has_money_limits is True
