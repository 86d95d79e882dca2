"""Self-exclusion, time-outs and operator blocks.

The account status follows the active blocks: an operator block makes it BLOCKED, a
self-exclusion or time-out SELF_EXCLUDED, none ACTIVE. Statuses staff set by hand (SUSPENDED,
DEACTIVATED, PENDING) are left alone by the blocks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from crm.models import EventType
from crm.services import crm_event_record
from players.exceptions import AlreadyExcluded, NothingToLift, PlayerInputInvalid, ReasonRequired
from players.models import AccountStatus, ActorKind, BlockKind, Player, PlayerBlock

BLOCK_DRIVEN_STATUSES = {AccountStatus.ACTIVE, AccountStatus.BLOCKED, AccountStatus.SELF_EXCLUDED}
EXCLUSION_KINDS = (BlockKind.SELF_EXCLUSION, BlockKind.TIMEOUT)
TIMEOUT_MAX = timedelta(days=42)
TIMEOUT_MIN = timedelta(hours=1)
SELF_EXCLUSION_MIN = timedelta(days=30)


def status_from_blocks(player: Player, at: datetime) -> str:
    if player.status not in BLOCK_DRIVEN_STATUSES:
        return player.status
    kinds = set(PlayerBlock.objects.active(at).filter(player=player).values_list("kind", flat=True))
    if BlockKind.OPERATOR in kinds:
        return AccountStatus.BLOCKED
    if kinds & set(EXCLUSION_KINDS):
        return AccountStatus.SELF_EXCLUDED
    return AccountStatus.ACTIVE


def _refresh_status(player: Player, at: datetime) -> None:
    status = status_from_blocks(player, at)
    if status != player.status:
        player.status = status
        player.save(update_fields=["status", "updated_at"])


def _block_snapshot(block: PlayerBlock) -> dict:
    return {
        "block_id": block.pk, "kind": block.kind,
        "ends_at": block.ends_at.isoformat() if block.ends_at else None,
    }


def _add_block(*, player: Player, kind: str, ends_at, reason: str, actor_user, actor_kind: str,
               action: str) -> PlayerBlock:
    now = timezone.now()
    with transaction.atomic():
        player = Player.objects.select_for_update().get(pk=player.pk)
        if kind in EXCLUSION_KINDS and PlayerBlock.objects.active(now).filter(
                player=player, kind__in=EXCLUSION_KINDS, ends_at__isnull=True).exists():
            raise AlreadyExcluded()
        block = PlayerBlock.objects.create(
            player=player, kind=kind, reason=reason.strip(), starts_at=now, ends_at=ends_at,
            created_by=actor_user, created_by_kind=actor_kind,
        )
        before_status = player.status
        _refresh_status(player, now)
        if actor_user is not None:
            audit_record(actor=actor_user, action=action, target=player, reason=reason,
                         before={"status": before_status},
                         after={"status": player.status, **_block_snapshot(block)})
        crm_event_record(event_type=EventType.USER_BLOCK, player=player)
    return block


def player_self_exclude(*, player: Player, until: datetime | None, actor_user=None, reason: str = "") -> PlayerBlock:
    """Self-exclude a player until a date (at least 30 days) or indefinitely (until=None).

    Called by the player, or by Compliance on the player's request (actor_user, audited).
    Locks the player row; emits USER_BLOCK_V2. Raises AlreadyExcluded when an indefinite
    exclusion is already active, PlayerInputInvalid for an end too soon.
    """
    now = timezone.now()
    if until is not None and until < now + SELF_EXCLUSION_MIN:
        raise PlayerInputInvalid(fields={"until": ["A self-exclusion lasts at least 30 days."]})
    if actor_user is not None and not reason.strip():
        raise ReasonRequired()
    return _add_block(
        player=player, kind=BlockKind.SELF_EXCLUSION, ends_at=until, reason=reason or "Self-exclusion",
        actor_user=actor_user, actor_kind=ActorKind.STAFF if actor_user else ActorKind.PLAYER,
        action="player.self_exclude",
    )


def player_timeout(*, player: Player, duration: timedelta) -> PlayerBlock:
    """A player's own time-out (a short break, 1 hour to 42 days). It cannot be cut short.

    Locks the player row; emits USER_BLOCK_V2.
    """
    if not TIMEOUT_MIN <= duration <= TIMEOUT_MAX:
        raise PlayerInputInvalid(fields={"duration": ["A time-out lasts from 1 hour to 42 days."]})
    return _add_block(
        player=player, kind=BlockKind.TIMEOUT, ends_at=timezone.now() + duration, reason="Time-out",
        actor_user=None, actor_kind=ActorKind.PLAYER, action="player.timeout",
    )


def player_block(*, player: Player, reason: str, actor_user, until: datetime | None = None) -> PlayerBlock:
    """An operator block (Compliance), with a mandatory reason and an optional end.

    Locks the player row; audited; emits USER_BLOCK_V2.
    """
    if not reason.strip():
        raise ReasonRequired()
    if until is not None and until <= timezone.now():
        raise PlayerInputInvalid(fields={"until": ["The end must be in the future."]})
    return _add_block(
        player=player, kind=BlockKind.OPERATOR, ends_at=until, reason=reason,
        actor_user=actor_user, actor_kind=ActorKind.STAFF, action="player.block",
    )


def _lift(*, player: Player, kinds, reason: str, actor_user, action: str) -> list[PlayerBlock]:
    if not reason.strip():
        raise ReasonRequired()
    now = timezone.now()
    with transaction.atomic():
        player = Player.objects.select_for_update().get(pk=player.pk)
        blocks = list(PlayerBlock.objects.active(now).filter(player=player, kind__in=kinds).order_by("pk"))
        if not blocks:
            raise NothingToLift()
        before_status = player.status
        for block in blocks:
            block.lifted_at, block.lifted_by, block.lift_reason = now, actor_user, reason.strip()
            block.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        _refresh_status(player, now)
        audit_record(actor=actor_user, action=action, target=player, reason=reason,
                     before={"status": before_status, "lifted_blocks": [b.pk for b in blocks]},
                     after={"status": player.status})
        crm_event_record(event_type=EventType.USER_BLOCK, player=player)
    return blocks


def player_unblock(*, player: Player, reason: str, actor_user) -> list[PlayerBlock]:
    """Lift the active operator blocks (Compliance). Locks the player; audited; USER_BLOCK_V2."""
    return _lift(player=player, kinds=[BlockKind.OPERATOR], reason=reason, actor_user=actor_user,
                 action="player.unblock")


def player_exclusion_lift(*, player: Player, reason: str, actor_user) -> list[PlayerBlock]:
    """Lift an active self-exclusion or time-out: a Compliance decision, never the player's.

    Locks the player; audited; emits USER_BLOCK_V2.
    """
    return _lift(player=player, kinds=list(EXCLUSION_KINDS), reason=reason, actor_user=actor_user,
                 action="player.exclusion_lift")


def player_status_set(*, player: Player, status: str, reason: str, actor_user) -> Player:
    """Suspend, deactivate or reactivate an account by hand (Compliance).

    Setting ACTIVE hands the status back to the blocks. Locks the player; audited; USER_BLOCK_V2.
    """
    if status not in AccountStatus.values:
        raise PlayerInputInvalid(fields={"status": [f"Use one of {', '.join(AccountStatus.values)}."]})
    if not reason.strip():
        raise ReasonRequired()
    now = timezone.now()
    with transaction.atomic():
        player = Player.objects.select_for_update().get(pk=player.pk)
        before = player.status
        player.status = AccountStatus.ACTIVE if status in BLOCK_DRIVEN_STATUSES else status
        player.status = status_from_blocks(player, now)
        player.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor_user, action="player.status_set", target=player, reason=reason,
                     before={"status": before}, after={"status": player.status})
        crm_event_record(event_type=EventType.USER_BLOCK, player=player)
    return player


def blocks_expire_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Apply the end of blocks whose end time has passed: status back, USER_BLOCK_V2 sent.

    Run by the periodic sweep. Each player is handled in its own transaction, locking the player
    row first and then its due blocks (the order every block service uses), so a sweep never
    deadlocks with a staff action and two sweeps never process the same block.
    Returns the number of blocks processed.
    """
    now = now or timezone.now()
    processed = 0
    due_blocks = PlayerBlock.objects.filter(
        expiry_processed=False, ends_at__isnull=False, ends_at__lte=now, lifted_at__isnull=True)
    while player_ids := list(due_blocks.order_by("player_id").values_list("player_id", flat=True)
                             .distinct()[:batch]):
        for player_id in player_ids:
            with transaction.atomic():
                player = Player.objects.select_for_update().get(pk=player_id)
                due = list(due_blocks.filter(player_id=player_id).select_for_update())
                if not due:
                    continue
                _refresh_status(player, now)
                crm_event_record(event_type=EventType.USER_BLOCK, player=player)
                PlayerBlock.objects.filter(pk__in=[block.pk for block in due]).update(expiry_processed=True)
                processed += len(due)
    return processed
