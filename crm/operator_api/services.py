"""Operator API credentials: create, revoke, check, and OAuth2 client-credentials tokens.

One `OperatorApiKey` (client id + secret) serves the three schemes Fast Track may be set up with:
`X-Api-Key: <client_id>.<secret>`, HTTP Basic (client id / secret) and OAuth2 client credentials
(exchanged at our token endpoint for a short-lived bearer token).

Secrets are 256 random bits, so a plain SHA-256 of them is as safe to store as a slow password hash
(nothing to brute-force) and cheap enough to check on every call. Bearer tokens are signed, not
stored: the signature proves we issued them, the timestamp bounds their life, and every check
re-reads the key so that revoking it refuses its tokens at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from crm.models import OperatorApiKey
from crm.operator_api.exceptions import (
    OperatorAuthFailed,
    OperatorKeyAlreadyRevoked,
    OperatorKeyNameInvalid,
    OperatorKeyNotFound,
)

CLIENT_ID_PREFIX = "op_"
_HASH_PREFIX = "sha256$"
_TOKEN_SALT = "crm.operator_api.token"
# Writing last_used_at on every call would turn each read into a write; a minute is precise enough.
_LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A key with its raw secret: only ever held in memory, right after creation."""

    key: OperatorApiKey
    secret: str

    @property
    def client_id(self) -> str:
        return self.key.client_id

    @property
    def api_key(self) -> str:
        """The value of the `X-Api-Key` header."""
        return f"{self.key.client_id}.{self.secret}"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    token_type: str = "Bearer"


def secret_hash(secret: str) -> str:
    return _HASH_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def _secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def operator_api_key_create(*, name: str, actor=None, actor_label: str | None = None) -> IssuedKey:
    """Create a key and return it with its secret, which is not stored and cannot be shown again.

    Locks nothing. Writes the key and an audit row in one transaction. Raises OperatorKeyNameInvalid.
    """
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise OperatorKeyNameInvalid()
    secret = secrets.token_urlsafe(32)
    with transaction.atomic():
        key = OperatorApiKey.objects.create(
            name=name, client_id=CLIENT_ID_PREFIX + secrets.token_hex(10), secret_hash=secret_hash(secret),
        )
        audit_record(actor=actor, actor_label=actor_label, action="crm.operator_api_key_create", target=key,
                     after={"client_id": key.client_id, "name": key.name})
    return IssuedKey(key=key, secret=secret)


def operator_api_key_revoke(*, client_id: str, actor=None, actor_label: str | None = None,
                            reason: str = "") -> OperatorApiKey:
    """Revoke a key: its three schemes and every bearer token issued for it stop working at once.

    Locks the key row. Writes an audit row with the actor (staff user, or a label for the command
    line). Raises OperatorKeyNotFound, OperatorKeyAlreadyRevoked.
    """
    with transaction.atomic():
        key = OperatorApiKey.objects.select_for_update().filter(client_id=client_id).first()
        if key is None:
            raise OperatorKeyNotFound()
        if key.revoked_at is not None:
            raise OperatorKeyAlreadyRevoked()
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit_record(actor=actor, actor_label=actor_label, action="crm.operator_api_key_revoke", target=key,
                     before={"revoked_at": None}, after={"revoked_at": key.revoked_at.isoformat()}, reason=reason)
    return key


def _touch(key: OperatorApiKey) -> None:
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_PRECISION:
        OperatorApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


def operator_api_key_check(*, client_id: str, secret: str) -> OperatorApiKey:
    """The active key these credentials belong to. Raises OperatorAuthFailed, saying nothing of why."""
    key = OperatorApiKey.objects.filter(client_id=client_id).first() if client_id and secret else None
    if key is None or key.revoked_at is not None or not _secret_matches(secret, key.secret_hash):
        raise OperatorAuthFailed()
    _touch(key)
    return key


def operator_api_key_check_header(value: str) -> OperatorApiKey:
    """Check an `X-Api-Key` value, `<client_id>.<secret>`. Raises OperatorAuthFailed."""
    client_id, _, secret = value.strip().partition(".")
    return operator_api_key_check(client_id=client_id, secret=secret)


def _token_signer() -> signing.TimestampSigner:
    # "." keeps the token within RFC 6750's b64token characters (Django's default ":" is not).
    return signing.TimestampSigner(salt=_TOKEN_SALT, sep=".")


def operator_token_issue(*, key: OperatorApiKey) -> IssuedToken:
    """A signed bearer token for an already checked key, valid OPERATOR_API_TOKEN_TTL_SECONDS."""
    token = _token_signer().sign_object({"c": key.client_id, "j": secrets.token_hex(6)})
    return IssuedToken(access_token=token, expires_in=settings.OPERATOR_API_TOKEN_TTL_SECONDS)


def operator_token_check(token: str) -> OperatorApiKey:
    """The key a bearer token was issued for, if the token is ours, unexpired and the key is active.

    Raises OperatorAuthFailed.
    """
    try:
        claims = _token_signer().unsign_object(token, max_age=settings.OPERATOR_API_TOKEN_TTL_SECONDS)
    except (signing.BadSignature, ValueError, TypeError):
        raise OperatorAuthFailed() from None
    client_id = claims.get("c") if isinstance(claims, dict) else None
    key = OperatorApiKey.objects.filter(client_id=client_id).first() if isinstance(client_id, str) else None
    if key is None or key.revoked_at is not None:
        raise OperatorAuthFailed()
    _touch(key)
    return key


def credentials_path_for(name: str) -> Path:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "key"
    return Path(settings.OPERATOR_API_CREDENTIALS_DIR) / f"{slug}.env"


def _read_credentials(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def _write_credentials(path: Path, issued: IssuedKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(f"# Operator API key {issued.key.name!r}, written by `manage.py operator_api_key ensure`.\n"
                   f"CLIENT_ID={issued.client_id}\nSECRET={issued.secret}\n")
    temporary.replace(path)


def operator_api_key_ensure(*, name: str, credentials_path: Path | None = None) -> tuple[IssuedKey, bool]:
    """A working key for a local client (the Fast Track simulator), created once and then reused.

    The secret is only stored hashed, so it cannot be shown twice: the first call creates the key
    and writes its credentials to a 0600 file (under .data/ by default); later calls re-read the
    file and check it against the database. When the file is missing or its key no longer works
    (revoked, database reset), a new key is created and the file rewritten. Returns (key, created).
    Serialised by a lock file so that two `make run` starting at once do not create two keys.
    """
    path = Path(credentials_path) if credentials_path else credentials_path_for(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = _read_credentials(path)
        client_id, secret = stored.get("CLIENT_ID", ""), stored.get("SECRET", "")
        key = OperatorApiKey.objects.filter(client_id=client_id, revoked_at__isnull=True).first() if client_id else None
        if key is not None and _secret_matches(secret, key.secret_hash):
            return IssuedKey(key=key, secret=secret), False
        issued = operator_api_key_create(name=name, actor_label="operator_api_key ensure")
        _write_credentials(path, issued)
        return issued, True
