"""Reads behind the Operator API. Player data comes from `players.selectors`; nothing here writes."""

from __future__ import annotations

from datetime import datetime
from importlib import import_module

from django.conf import settings

from crm.operator_api.contract import RECONCILIATION_CONSENT_FIELDS
from crm.operator_api.exceptions import ReconciliationFieldUnsupported
from players import selectors as player_selectors
from players.middleware import SESSION_PLAYER_KEY
from players.models import Player
from players.services.auth import player_for_token


def users_for_reconciliation(field: str, at: datetime) -> list[int]:
    """Ids of the players for whom `field` is true at `at`, in id order.

    Raises ReconciliationFieldUnsupported for a field the contract does not list (answered 501).
    """
    if field == "blocked":
        queryset = player_selectors.players_blocked(at)
    elif field == "excluded":
        queryset = player_selectors.players_excluded(at)
    elif field in RECONCILIATION_CONSENT_FIELDS:
        queryset = Player.objects.filter(**{RECONCILIATION_CONSENT_FIELDS[field]: True})
    else:
        raise ReconciliationFieldUnsupported(f"Reconciliation field {field[:64]!r} is not supported.")
    return list(queryset.order_by("pk").values_list("pk", flat=True))


def player_for_sid(sid: str) -> Player | None:
    """The player behind a session id Fast Track's on-site scripts pass on.

    A `sid` is either a player API token (from POST /api/v1/players/login) or the Django session key
    of a player logged in on the site (the `sessionid` cookie). Expired or revoked ones match nothing.
    """
    sid = (sid or "").strip()
    if not sid or len(sid) > 256:
        return None
    player = player_for_token(sid)
    if player is not None:
        return player
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=sid)
    player_id = store.get(SESSION_PLAYER_KEY)
    return player_selectors.player_get(player_id) if player_id else None
