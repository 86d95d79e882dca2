from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEntry
from players.exceptions import PlayerInputInvalid
from players.models import LimitChange, LimitKind, LimitPeriod, ResponsibleGamingLimit
from players.selectors import player_limit_value, player_limits
from players.services.limits import limits_apply_due, player_limit_set

DAY = LimitPeriod.DAY
DEPOSIT = LimitKind.DEPOSIT

pytestmark = pytest.mark.django_db


def test_a_first_limit_is_stricter_and_applies_at_once(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100.00")

    assert player_limit_value(player, DEPOSIT, DAY) == Decimal("100.00")
    change = LimitChange.objects.get(player=player)
    assert change.immediate is True
    assert change.old_value is None and change.new_value == Decimal("100.00")


def test_a_lower_limit_applies_at_once(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="50")

    assert player_limit_value(player, DEPOSIT, DAY) == Decimal("50")


def test_a_higher_limit_waits_for_the_cooling_off_period(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    requested_at = timezone.now()

    limit = player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="500")

    assert player_limit_value(player, DEPOSIT, DAY) == Decimal("100")
    assert limit.pending_value == Decimal("500")
    assert abs(limit.pending_effective_at - (requested_at + timedelta(hours=24))) < timedelta(seconds=5)
    with time_machine.travel(requested_at + timedelta(hours=23, minutes=59)):
        assert player_limit_value(player, DEPOSIT, DAY) == Decimal("100")
    with time_machine.travel(requested_at + timedelta(hours=24, seconds=5)):
        assert player_limit_value(player, DEPOSIT, DAY) == Decimal("500")


def test_removing_a_limit_waits_for_the_cooling_off_period(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value=None)

    assert player_limit_value(player, DEPOSIT, DAY) == Decimal("100")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        assert player_limit_value(player, DEPOSIT, DAY) is None


def test_the_cooling_off_period_is_a_setting(player, settings):
    settings.PLAYER_LIMIT_COOLING_OFF_HOURS = 72
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="200")

    with time_machine.travel(timezone.now() + timedelta(hours=48)):
        assert player_limit_value(player, DEPOSIT, DAY) == Decimal("100")
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        assert player_limit_value(player, DEPOSIT, DAY) == Decimal("200")


def test_a_stricter_limit_cancels_a_pending_looser_one(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="500")
    limit = player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="80")

    assert limit.pending_effective_at is None
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert player_limit_value(player, DEPOSIT, DAY) == Decimal("80")


def test_asking_for_the_value_in_force_cancels_a_pending_change(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value=None)
    limit = player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")

    assert limit.pending_effective_at is None and limit.pending_removal is False
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        assert player_limit_value(player, DEPOSIT, DAY) == Decimal("100")


def test_the_sweep_materialises_due_changes_and_is_safe_to_repeat(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="300")

    later = timezone.now() + timedelta(hours=25)
    assert limits_apply_due(now=later) == 1
    assert limits_apply_due(now=later) == 0
    row = ResponsibleGamingLimit.objects.get(player=player, kind=DEPOSIT, period=DAY)
    assert row.value == Decimal("300") and row.pending_effective_at is None


def test_limits_show_the_value_in_force_and_the_pending_change(player):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="300")
    player_limit_set(player=player, kind=LimitKind.SESSION_TIME, value="60")

    views = {(view.kind, view.period): view for view in player_limits(player)}

    assert views[(DEPOSIT, DAY)].value == Decimal("100")
    assert views[(DEPOSIT, DAY)].pending_value == Decimal("300")
    assert views[(LimitKind.SESSION_TIME, "")].value == Decimal("60")


@pytest.mark.parametrize(
    ("kind", "period", "value", "field"),
    [
        (DEPOSIT, "", "10", "period"),
        (DEPOSIT, DAY, "10.001", "value"),
        (DEPOSIT, DAY, "-5", "value"),
        (DEPOSIT, DAY, "0", "value"),
        (DEPOSIT, DAY, "NaN", "value"),
        (DEPOSIT, DAY, "Infinity", "value"),
        (DEPOSIT, DAY, "ten", "value"),
        (DEPOSIT, DAY, 10.5, "value"),
        (LimitKind.SESSION_TIME, DAY, "60", "period"),
        (LimitKind.SESSION_TIME, "", "60.5", "value"),
        (LimitKind.REALITY_CHECK, "", "100000", "value"),
        ("JACKPOT", DAY, "10", "kind"),
    ],
)
def test_a_bad_limit_is_refused_and_nothing_is_written(player, kind, period, value, field):
    with pytest.raises(PlayerInputInvalid) as refused:
        player_limit_set(player=player, kind=kind, period=period, value=value)

    assert field in refused.value.fields
    assert not ResponsibleGamingLimit.objects.filter(player=player).exists()
    assert not LimitChange.objects.filter(player=player).exists()


def test_money_limits_follow_the_currency_minor_units(player):
    player.currency = "JPY"
    player.save()

    with pytest.raises(PlayerInputInvalid):
        player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="1000.5")
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="1000")
    assert player_limit_value(player, DEPOSIT, DAY) == Decimal("1000")


def test_a_staff_change_is_audited(player, compliance):
    player_limit_set(player=player, kind=DEPOSIT, period=DAY, value="100", actor_user=compliance,
                     reason="affordability check")

    entry = AuditEntry.objects.get(action="player.limit_set")
    assert entry.actor == compliance
    assert entry.reason == "affordability check"
    assert entry.after["value"] == "100.00"
    assert LimitChange.objects.get(player=player).actor_user == compliance
