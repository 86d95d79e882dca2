"""Responsible-gaming limits: a stricter limit applies at once, a looser one after cooling-off.

"Stricter" means a lower value, or a limit where there was none. "Looser" means a higher value or
a removal; it waits `PLAYER_LIMIT_COOLING_OFF_HOURS` (24 h by default) and can be cancelled
meanwhile by asking for the value in force again. Enforcement is in the wallet and the games.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from players.exceptions import PlayerInputInvalid
from players.models import (
    PERIODIC_LIMIT_KINDS,
    ActorKind,
    LimitChange,
    LimitKind,
    LimitPeriod,
    Player,
    ResponsibleGamingLimit,
)
from wallet import currencies

MAX_MONEY_LIMIT = Decimal("1000000000")
MAX_MINUTES = {LimitKind.SESSION_TIME: 24 * 60, LimitKind.REALITY_CHECK: 24 * 60}
MIN_MINUTES = {LimitKind.SESSION_TIME: 5, LimitKind.REALITY_CHECK: 5}


def cooling_off() -> timedelta:
    return timedelta(hours=settings.PLAYER_LIMIT_COOLING_OFF_HOURS)


def _clean_value(player: Player, kind: str, period: str, value) -> Decimal | None:
    """Check the kind, period and value; return the value as an exact Decimal (None = no limit)."""
    if kind not in LimitKind.values:
        raise PlayerInputInvalid(fields={"kind": [f"Use one of {', '.join(LimitKind.values)}."]})
    if kind in PERIODIC_LIMIT_KINDS and period not in (LimitPeriod.DAY, LimitPeriod.WEEK, LimitPeriod.MONTH):
        raise PlayerInputInvalid(fields={"period": ["Use DAY, WEEK or MONTH."]})
    if kind not in PERIODIC_LIMIT_KINDS and period:
        raise PlayerInputInvalid(fields={"period": ["This limit has no period."]})
    if value is None:
        return None
    if isinstance(value, float):
        raise PlayerInputInvalid(fields={"value": ["Send the amount as a string or an integer."]})
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PlayerInputInvalid(fields={"value": ["Enter a number."]}) from None
    if not amount.is_finite() or amount <= 0:
        raise PlayerInputInvalid(fields={"value": ["Enter a positive number."]})
    if kind in PERIODIC_LIMIT_KINDS:
        places = currencies.minor_units(player.currency)
        if amount > MAX_MONEY_LIMIT or amount != amount.quantize(currencies.quantum(player.currency)):
            raise PlayerInputInvalid(fields={"value": [
                f"Use at most {places} decimal places and at most {MAX_MONEY_LIMIT} {player.currency}."]})
        return amount.quantize(currencies.quantum(player.currency))
    if not MIN_MINUTES[kind] <= amount <= MAX_MINUTES[kind] or amount != amount.to_integral_value():
        raise PlayerInputInvalid(fields={"value": [
            f"Use whole minutes from {MIN_MINUTES[kind]} to {MAX_MINUTES[kind]}."]})
    return amount.to_integral_value()


def _settle_due(limit: ResponsibleGamingLimit, now: datetime) -> None:
    """Make a pending change whose cooling-off has passed the value in force."""
    if limit.pending_effective_at is not None and limit.pending_effective_at <= now:
        limit.value = None if limit.pending_removal else limit.pending_value
        _clear_pending(limit)


def _clear_pending(limit: ResponsibleGamingLimit) -> None:
    limit.pending_value, limit.pending_removal, limit.pending_effective_at = None, False, None


def player_limit_set(
    *, player: Player, kind: str, period: str = "", value=None, actor_user=None, reason: str = "",
) -> ResponsibleGamingLimit:
    """Set (value) or remove (value=None) one limit.

    Stricter: in force at once, cancelling any pending looser change. Looser or removal: parked
    until now + cooling-off. The same value as in force cancels a pending change. Locks the
    limit row (created if missing); records a LimitChange; staff changes are audited.
    Raises PlayerInputInvalid on a bad kind, period or value.
    """
    new_value = _clean_value(player, kind, period, value)
    now = timezone.now()
    with transaction.atomic():
        ResponsibleGamingLimit.objects.get_or_create(player=player, kind=kind, period=period)
        limit = ResponsibleGamingLimit.objects.select_for_update().get(player=player, kind=kind, period=period)
        _settle_due(limit, now)
        current = limit.value
        stricter = new_value is not None and (current is None or new_value < current)
        if stricter or new_value == current:
            immediate, effective_at = True, now
            limit.value = new_value
            _clear_pending(limit)
        else:
            immediate, effective_at = False, now + cooling_off()
            limit.pending_value = new_value
            limit.pending_removal = new_value is None
            limit.pending_effective_at = effective_at
        limit.save()
        LimitChange.objects.create(
            player=player, kind=kind, period=period, old_value=current, new_value=new_value,
            requested_at=now, effective_at=effective_at, immediate=immediate,
            actor_kind=ActorKind.STAFF if actor_user else ActorKind.PLAYER, actor_user=actor_user,
        )
        if actor_user is not None:
            audit_record(actor=actor_user, action="player.limit_set", target=player, reason=reason,
                         before={"kind": kind, "period": period, "value": _str(current)},
                         after={"kind": kind, "period": period, "value": _str(new_value),
                                "effective_at": effective_at.isoformat()})
    return limit


def limits_apply_due(*, now: datetime | None = None) -> int:
    """Materialise pending changes whose cooling-off has passed (periodic sweep).

    Reads never depend on this having run (`ResponsibleGamingLimit.value_at` counts a due pending
    change), so it only keeps the rows tidy. Locks each row; safe to run twice.
    """
    now = now or timezone.now()
    done = 0
    due_ids = list(ResponsibleGamingLimit.objects.filter(pending_effective_at__lte=now)
                   .order_by("pk").values_list("pk", flat=True))
    for limit_id in due_ids:
        with transaction.atomic():
            limit = ResponsibleGamingLimit.objects.select_for_update().get(pk=limit_id)
            if limit.pending_effective_at is not None and limit.pending_effective_at <= now:
                _settle_due(limit, now)
                limit.save()
                done += 1
    return done


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
