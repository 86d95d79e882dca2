"""Player log-in for the site (session) and for API clients (token), and staff impersonation.

Players do not go through Django's staff authentication. Failed logins are counted per
(username, IP) in Redis; past PLAYER_LOGIN_FAILURE_LIMIT the pair is locked out for 15 minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models.functions import Upper
from django.utils import timezone
from redis.exceptions import RedisError

from audit.services import audit_record
from crm.models import EventType
from crm.services import crm_event_record
from players.exceptions import AccountDeactivated, InvalidCredentials, LoginLockedOut, LoginUnavailable
from players.models import AccountStatus, Player, PlayerLogin, PlayerToken

LOCKOUT_SECONDS = 15 * 60
# Checked against when the username is unknown, so a miss costs as much time as a wrong password.
_DUMMY_PASSWORD_HASH = make_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class LoginResult:
    player: Player
    login: PlayerLogin
    token: str | None = None


def _failure_key(identifier: str, ip_address: str | None) -> str:
    digest = hashlib.sha256(f"{identifier.lower()}|{ip_address}".encode()).hexdigest()
    return f"player-login-failures:{digest}"


def _find_player(identifier: str) -> Player | None:
    identifier = identifier.strip()
    if "@" in identifier:
        return Player.objects.filter(email=identifier.lower()).first()
    return Player.objects.annotate(u=Upper("username")).filter(u=identifier.upper()).first()


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _record_login(*, player: Player, ip_address, user_agent: str, channel: str, impersonated_by=None) -> PlayerLogin:
    login = PlayerLogin.objects.create(
        player=player, ip_address=ip_address, user_agent=user_agent[:500], channel=channel,
        impersonated_by=impersonated_by,
    )
    crm_event_record(
        event_type=EventType.LOGIN, player=player, at=login.logged_in_at,
        data={"ip_address": ip_address, "user_agent": user_agent[:500],
              "is_impersonated": impersonated_by is not None},
    )
    return login


def player_login(
    *, identifier: str, password: str, ip_address: str | None, user_agent: str = "", channel: str = "site",
    issue_token: bool = False,
) -> LoginResult:
    """Check a player's username (or e-mail) and password and record the login.

    Writes a PlayerLogin and a LOGIN_V2 event in one transaction; with issue_token, also an API
    token (returned once, stored hashed). Raises InvalidCredentials, LoginLockedOut or
    AccountDeactivated; a failure writes nothing to the database.
    """
    key = _failure_key(identifier, ip_address)
    try:
        if cache.get(key, 0) >= settings.PLAYER_LOGIN_FAILURE_LIMIT:
            raise LoginLockedOut()
        player = _find_player(identifier)
        if not check_password(password, player.password if player else _DUMMY_PASSWORD_HASH) or player is None:
            cache.add(key, 0, timeout=LOCKOUT_SECONDS)
            cache.incr(key)
            raise InvalidCredentials()
        if player.status == AccountStatus.DEACTIVATED:
            raise AccountDeactivated()
        cache.delete(key)
    except RedisError:
        # Without the failure counter brute force could not be stopped: refuse rather than fail open.
        raise LoginUnavailable() from None
    with transaction.atomic():
        login = _record_login(player=player, ip_address=ip_address, user_agent=user_agent, channel=channel)
        token = _issue_token(player) if issue_token else None
    return LoginResult(player=player, login=login, token=token)


def _issue_token(player: Player) -> str:
    key = secrets.token_urlsafe(32)
    PlayerToken.objects.create(
        player=player, key_hash=token_hash(key),
        expires_at=timezone.now() + timedelta(days=settings.PLAYER_TOKEN_TTL_DAYS),
    )
    return key


def player_token_revoke(*, key: str) -> bool:
    """Revoke one API token (logout of an API client). Returns whether a live token was revoked."""
    return bool(PlayerToken.objects.filter(key_hash=token_hash(key), revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))


def player_for_token(key: str) -> Player | None:
    token = (PlayerToken.objects.select_related("player")
             .filter(key_hash=token_hash(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
             .first())
    return token.player if token else None


def player_impersonate(*, player: Player, staff_user, ip_address: str | None, user_agent: str = "") -> PlayerLogin:
    """A support agent logs in to the site as the player.

    Records a PlayerLogin marked as impersonated, a LOGIN_V2 with is_impersonated=true and an
    audit row, in one transaction. The caller checks the staff permission.
    """
    with transaction.atomic():
        login = _record_login(player=player, ip_address=ip_address, user_agent=user_agent,
                              channel="site", impersonated_by=staff_user)
        audit_record(actor=staff_user, action="player.impersonate", target=player,
                     after={"login_id": login.pk})
    return login
