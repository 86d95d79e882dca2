from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEntry
from crm.models import EventType, OutboxEvent
from players.exceptions import AlreadyExcluded, NothingToLift, PlayerInputInvalid, ReasonRequired
from players.models import AccountStatus, BlockKind, PlayerBlock
from players.selectors import player_block_flags, players_blocked, players_excluded
from players.services.blocks import (
    blocks_expire_due,
    player_block,
    player_exclusion_lift,
    player_self_exclude,
    player_status_set,
    player_timeout,
    player_unblock,
)

pytestmark = pytest.mark.django_db


def block_events(player):
    return OutboxEvent.objects.filter(player_id=player.pk, event_type=EventType.USER_BLOCK).count()


def test_an_indefinite_self_exclusion_excludes_the_player_and_tells_the_crm(player):
    assert player_block_flags(player).is_excluded is False

    player_self_exclude(player=player, until=None)

    player.refresh_from_db()
    assert player.status == AccountStatus.SELF_EXCLUDED
    flags = player_block_flags(player)
    assert flags.is_excluded is True and flags.is_blocked is False
    assert block_events(player) == 1
    assert list(players_excluded()) == [player]


def test_a_self_exclusion_shorter_than_30_days_is_refused(player):
    with pytest.raises(PlayerInputInvalid):
        player_self_exclude(player=player, until=timezone.now() + timedelta(days=7))
    assert not PlayerBlock.objects.exists()
    assert block_events(player) == 0


def test_a_second_indefinite_exclusion_is_refused(player):
    player_self_exclude(player=player, until=None)
    with pytest.raises(AlreadyExcluded):
        player_self_exclude(player=player, until=None)
    assert PlayerBlock.objects.count() == 1


def test_a_time_out_ends_by_itself_and_the_sweep_tells_the_crm(player):
    player_timeout(player=player, duration=timedelta(hours=24))
    player.refresh_from_db()
    assert player.status == AccountStatus.SELF_EXCLUDED
    assert block_events(player) == 1

    later = timezone.now() + timedelta(hours=25)
    with time_machine.travel(later):
        assert player_block_flags(player).is_excluded is False
        assert blocks_expire_due() == 1
        assert blocks_expire_due() == 0

    player.refresh_from_db()
    assert player.status == AccountStatus.ACTIVE
    assert block_events(player) == 2


def test_a_time_out_outside_one_hour_to_42_days_is_refused(player):
    for duration in (timedelta(minutes=30), timedelta(days=43)):
        with pytest.raises(PlayerInputInvalid):
            player_timeout(player=player, duration=duration)
    assert not PlayerBlock.objects.exists()


def test_an_operator_block_needs_a_reason(player, compliance):
    with pytest.raises(ReasonRequired):
        player_block(player=player, reason="  ", actor_user=compliance)
    assert not PlayerBlock.objects.exists()
    assert not AuditEntry.objects.exists()


def test_block_and_unblock_keep_a_history_and_an_audit_trail(player, compliance):
    block = player_block(player=player, reason="chargeback fraud", actor_user=compliance)
    player.refresh_from_db()
    assert player.status == AccountStatus.BLOCKED
    assert player_block_flags(player).is_blocked is True
    assert player_block_flags(player).blocked_note == "chargeback fraud"
    assert list(players_blocked()) == [player]

    player_unblock(player=player, reason="cleared by the PSP", actor_user=compliance)

    player.refresh_from_db()
    block.refresh_from_db()
    assert player.status == AccountStatus.ACTIVE
    assert block.lifted_at is not None and block.lifted_by == compliance
    assert block.lift_reason == "cleared by the PSP"
    assert PlayerBlock.objects.filter(player=player).count() == 1  # history kept, not deleted
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "before__status", "after__status"))
    assert actions == [("player.block", "ACTIVE", "BLOCKED"), ("player.unblock", "BLOCKED", "ACTIVE")]
    assert block_events(player) == 2


def test_unblocking_a_player_who_is_not_blocked_is_refused(player, compliance):
    with pytest.raises(NothingToLift):
        player_unblock(player=player, reason="no", actor_user=compliance)
    assert not AuditEntry.objects.exists()


def test_an_operator_block_outranks_an_exclusion_and_lifting_it_reveals_the_exclusion(player, compliance):
    player_self_exclude(player=player, until=None)
    player_block(player=player, reason="investigation", actor_user=compliance)
    player.refresh_from_db()
    assert player.status == AccountStatus.BLOCKED

    player_unblock(player=player, reason="done", actor_user=compliance)
    player.refresh_from_db()
    assert player.status == AccountStatus.SELF_EXCLUDED


def test_compliance_can_lift_an_exclusion_with_a_reason(player, compliance):
    player_self_exclude(player=player, until=None)
    player_exclusion_lift(player=player, reason="opened in error", actor_user=compliance)

    player.refresh_from_db()
    assert player.status == AccountStatus.ACTIVE
    assert AuditEntry.objects.filter(action="player.exclusion_lift", actor=compliance).exists()


def test_a_deactivated_account_stays_deactivated_whatever_the_blocks(player, compliance):
    player_status_set(player=player, status=AccountStatus.DEACTIVATED, reason="closed on request",
                      actor_user=compliance)
    player_block(player=player, reason="fraud", actor_user=compliance)
    player.refresh_from_db()
    assert player.status == AccountStatus.DEACTIVATED

    player_status_set(player=player, status=AccountStatus.ACTIVE, reason="reopened", actor_user=compliance)
    player.refresh_from_db()
    assert player.status == AccountStatus.BLOCKED  # the block still stands


def test_a_block_that_ended_is_no_longer_active(player, compliance):
    player_block(player=player, reason="cool down", actor_user=compliance, until=timezone.now() + timedelta(days=1))
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert player_block_flags(player).is_blocked is False
        assert list(PlayerBlock.objects.active().filter(kind=BlockKind.OPERATOR)) == []
