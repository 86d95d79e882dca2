"""Marketing consents for the six Fast Track channels, with a history of every change."""

from __future__ import annotations

from django.db import transaction

from audit.services import audit_record
from crm.models import EventType
from crm.services import crm_event_record
from players.exceptions import PlayerInputInvalid
from players.models import CONSENT_FIELDS, ActorKind, ConsentChange, Player


def consents_initial_history(*, player: Player, ip_address: str | None) -> None:
    """Record the consents chosen at registration as the first history rows."""
    ConsentChange.objects.bulk_create(
        ConsentChange(player=player, channel=channel, opted_in=getattr(player, field),
                      actor_kind=ActorKind.PLAYER, ip_address=ip_address, source="registration")
        for channel, field in CONSENT_FIELDS.items()
    )


def player_consents_set(
    *,
    player: Player,
    consents: dict[str, bool],
    actor_kind: str,
    actor_user=None,
    ip_address: str | None = None,
    source: str = "",
) -> Player:
    """Change some of a player's consents; unchanged channels are left alone.

    Locks the player row. Each changed channel gets a ConsentChange row; staff and CRM changes
    are audited. Emits one USER_CONSENTS_V2 when anything changed. Raises PlayerInputInvalid on
    an unknown channel or a non-boolean value.
    """
    unknown = [channel for channel in consents if channel not in CONSENT_FIELDS]
    not_bool = [channel for channel, value in consents.items() if not isinstance(value, bool)]
    if unknown or not_bool:
        raise PlayerInputInvalid(fields={
            **{channel: ["Unknown consent type."] for channel in unknown},
            **{channel: ["Must be true or false."] for channel in not_bool},
        })
    with transaction.atomic():
        player = Player.objects.select_for_update().get(pk=player.pk)
        changed = {channel: value for channel, value in consents.items()
                   if getattr(player, CONSENT_FIELDS[channel]) != value}
        if not changed:
            return player
        before = {channel: not value for channel, value in changed.items()}
        for channel, value in changed.items():
            setattr(player, CONSENT_FIELDS[channel], value)
        player.save(update_fields=[*(CONSENT_FIELDS[channel] for channel in changed), "updated_at"])
        ConsentChange.objects.bulk_create(
            ConsentChange(player=player, channel=channel, opted_in=value, actor_kind=actor_kind,
                          actor_user=actor_user, ip_address=ip_address, source=source)
            for channel, value in changed.items()
        )
        if actor_kind in (ActorKind.STAFF, ActorKind.CRM):
            audit_record(actor=actor_user, actor_label=None if actor_user else source or actor_kind,
                         action="player.consents_set", target=player, before=before, after=changed)
        crm_event_record(event_type=EventType.USER_CONSENTS, player=player)
    return player
