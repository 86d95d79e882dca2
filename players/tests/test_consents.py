import pytest

from audit.models import AuditEntry
from crm.models import EventType, OutboxEvent
from players.exceptions import PlayerInputInvalid
from players.models import ActorKind, ConsentChange
from players.services.consents import player_consents_set

pytestmark = pytest.mark.django_db


def consent_events(player):
    return list(OutboxEvent.objects.filter(player_id=player.pk, event_type=EventType.USER_CONSENTS))


def test_a_consent_change_is_saved_with_who_when_and_where(player):
    player_consents_set(player=player, consents={"email": True, "sms": False}, actor_kind=ActorKind.PLAYER,
                        ip_address="203.0.113.9", source="site")

    player.refresh_from_db()
    assert player.consent_email is True
    change = ConsentChange.objects.get(player=player)  # sms was already false: no row for it
    assert (change.channel, change.opted_in, change.actor_kind, change.ip_address, change.source) == (
        "email", True, "player", "203.0.113.9", "site")
    assert change.changed_at is not None
    assert len(consent_events(player)) == 1


def test_an_unchanged_consent_writes_nothing_and_sends_nothing(player):
    player_consents_set(player=player, consents={"email": False}, actor_kind=ActorKind.PLAYER)
    assert not ConsentChange.objects.exists()
    assert consent_events(player) == []


def test_every_change_is_kept_in_the_history(player):
    for value in (True, False, True):
        player_consents_set(player=player, consents={"pushNotification": value}, actor_kind=ActorKind.PLAYER)
    history = list(ConsentChange.objects.filter(player=player).order_by("id").values_list("opted_in", flat=True))
    assert history == [True, False, True]
    assert len(consent_events(player)) == 3


def test_a_crm_unsubscribe_is_audited_as_the_crm(player):
    player.consent_email = True
    player.save()
    player_consents_set(player=player, consents={"email": False}, actor_kind=ActorKind.CRM, source="fasttrack")

    entry = AuditEntry.objects.get(action="player.consents_set")
    assert entry.actor is None and entry.actor_label == "fasttrack"
    assert entry.before == {"email": True} and entry.after == {"email": False}


@pytest.mark.parametrize("consents", [{"fax": True}, {"email": "yes"}])
def test_an_unknown_channel_or_a_non_boolean_is_refused(player, consents):
    with pytest.raises(PlayerInputInvalid):
        player_consents_set(player=player, consents=consents, actor_kind=ActorKind.PLAYER)
    assert not ConsentChange.objects.exists()
    assert consent_events(player) == []
