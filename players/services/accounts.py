"""Registration and profile changes."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils import timezone

from audit.services import audit_record
from crm.models import EventType
from crm.services import crm_event_record
from players import rules
from players.exceptions import CurrencyFixed, PlayerInputInvalid, ReasonRequired
from players.models import CONSENT_FIELDS, Brand, KycStatus, Player, PlayerNote, PlayerRole
from players.services.consents import consents_initial_history

# Fields a player may change on their own profile; staff may also change the ones below.
PLAYER_EDITABLE_FIELDS = {
    "title", "first_name", "last_name", "sex", "address", "city", "postal_code",
    "mobile_prefix", "mobile", "language",
}
STAFF_EDITABLE_FIELDS = PLAYER_EDITABLE_FIELDS | {
    "email", "birth_date", "country", "market", "affiliate_reference", "registration_code", "currency",
}


def profile_errors(values: dict, today: date) -> dict[str, list[str]]:
    checks = {}
    if "username" in values:
        checks["username"] = rules.username_error(values["username"])
    if "email" in values:
        checks["email"] = rules.email_error(values["email"])
    if "birth_date" in values:
        checks["birth_date"] = rules.birth_date_error(values["birth_date"], today)
    if "country" in values:
        checks["country"] = rules.country_error(values["country"])
    if "language" in values:
        checks["language"] = rules.language_error(values["language"])
    if "currency" in values:
        checks["currency"] = rules.currency_error(values["currency"])
    if "sex" in values:
        checks["sex"] = rules.sex_error(values["sex"])
    if "mobile" in values or "mobile_prefix" in values:
        checks["mobile"] = rules.mobile_error(values.get("mobile_prefix", ""), values.get("mobile", ""))
    return rules.collect_errors(checks)


def _uniqueness_errors(*, username: str | None, email: str | None, exclude_pk: int | None = None) -> dict:
    errors = {}
    others = Player.objects.exclude(pk=exclude_pk) if exclude_pk else Player.objects.all()
    if username and others.annotate(u=Upper("username")).filter(u=username.upper()).exists():
        errors["username"] = ["This username is taken."]
    if email and others.filter(email=email).exists():
        errors["email"] = ["An account with this e-mail already exists."]
    return errors


def player_register(
    *,
    username: str,
    email: str,
    password: str,
    birth_date: date | None,
    country: str,
    currency: str,
    language: str = "en",
    brand: Brand | None = None,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    sex: str = "",
    address: str = "",
    city: str = "",
    postal_code: str = "",
    mobile_prefix: str = "",
    mobile: str = "",
    affiliate_reference: str = "",
    registration_code: str = "",
    consents: dict[str, bool] | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> Player:
    """Create a player account.

    Validates every field (age, e-mail, ISO codes, uniqueness) before writing anything; raises
    PlayerInputInvalid with field errors. Emits USER_CREATE_V2 and, when consents are given, records
    them as the player's first choice. Locks nothing: the unique constraints settle a race.
    """
    email = email.strip().lower()
    username = username.strip()
    values = {
        "username": username, "email": email, "birth_date": birth_date, "country": country,
        "currency": currency, "language": language, "sex": sex,
        "mobile_prefix": mobile_prefix, "mobile": mobile,
    }
    errors = profile_errors(values, timezone.localdate())
    unknown_consents = set(consents or {}) - set(CONSENT_FIELDS)
    if unknown_consents:
        errors["consents"] = [f"Unknown consent types: {', '.join(sorted(unknown_consents))}."]
    try:
        validate_password(password)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if not errors:
        errors = _uniqueness_errors(username=username, email=email)
    if errors:
        raise PlayerInputInvalid(fields=errors)

    brand = brand or Brand.objects.order_by("pk").first()
    if brand is None:
        raise PlayerInputInvalid("No brand is configured.", fields={"brand": ["No brand is configured."]})
    consent_values = {channel: bool(value) for channel, value in (consents or {}).items()}
    player = Player(
        brand=brand, username=username, email=email, password=make_password(password),
        birth_date=birth_date, country=country, currency=currency, language=language,
        first_name=first_name, last_name=last_name, title=title, sex=sex, address=address,
        city=city, postal_code=postal_code, mobile_prefix=mobile_prefix, mobile=mobile,
        market=brand.default_market or country.lower(), origin=brand.origin,
        affiliate_reference=affiliate_reference, registration_code=registration_code,
    )
    for channel, opted_in in consent_values.items():
        setattr(player, CONSENT_FIELDS[channel], opted_in)
    try:
        with transaction.atomic():
            player.save()
            consents_initial_history(player=player, ip_address=ip_address)
            crm_event_record(
                event_type=EventType.USER_CREATE, player=player, at=player.registered_at,
                data={"ip_address": ip_address, "user_agent": user_agent[:500]},
            )
    except IntegrityError:
        # Lost a race with a concurrent registration of the same username or e-mail.
        raise PlayerInputInvalid(fields=_uniqueness_errors(username=username, email=email) or {
            "username": ["This username or e-mail is taken."]}) from None
    return player


def _snapshot(player: Player, fields) -> dict:
    return {field: _jsonable(getattr(player, field)) for field in sorted(fields)}


def _jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    return value


def player_profile_update(
    *, player: Player, changes: dict, actor_user=None, reason: str = "",
) -> Player:
    """Change profile fields. A player may change PLAYER_EDITABLE_FIELDS; staff (actor_user) more.

    Locks the player row. Emits USER_UPDATE_V2 when something changed; staff changes are audited.
    Raises PlayerInputInvalid on bad or unknown fields, CurrencyFixed on a currency change.
    """
    allowed = STAFF_EDITABLE_FIELDS if actor_user is not None else PLAYER_EDITABLE_FIELDS
    unknown = set(changes) - allowed
    if unknown:
        raise PlayerInputInvalid(fields={field: ["This field cannot be changed here."] for field in unknown})
    if "email" in changes:
        changes = {**changes, "email": changes["email"].strip().lower()}
    with transaction.atomic():
        player = Player.objects.select_for_update().get(pk=player.pk)
        if "currency" in changes and changes["currency"] != player.currency:
            raise CurrencyFixed()
        changed = {field: value for field, value in changes.items() if getattr(player, field) != value}
        if not changed:
            return player
        probe = {field: changed.get(field, getattr(player, field)) for field in changed}
        if "mobile" in changed or "mobile_prefix" in changed:
            probe.setdefault("mobile", player.mobile)
            probe.setdefault("mobile_prefix", player.mobile_prefix)
        errors = profile_errors(probe, timezone.localdate())
        if not errors and "email" in changed:
            errors = _uniqueness_errors(username=None, email=changed["email"], exclude_pk=player.pk)
        if errors:
            raise PlayerInputInvalid(fields=errors)
        before = _snapshot(player, changed)
        for field, value in changed.items():
            setattr(player, field, value)
        player.save(update_fields=[*changed, "updated_at"])
        if actor_user is not None:
            audit_record(actor=actor_user, action="player.profile_update", target=player,
                         before=before, after=_snapshot(player, changed), reason=reason)
        crm_event_record(event_type=EventType.USER_UPDATE, player=player)
    return player


def player_kyc_set(*, player: Player, status: str, actor_user, reason: str) -> Player:
    """Set the KYC status (Compliance). VERIFIED stamps `verified_at` the first time.

    Locks the player row; audited; emits USER_UPDATE_V2 (Fast Track reads verified_at).
    """
    if status not in KycStatus.values:
        raise PlayerInputInvalid(fields={"status": [f"Use one of {', '.join(KycStatus.values)}."]})
    if not reason.strip():
        raise ReasonRequired()
    with transaction.atomic():
        player = Player.objects.select_for_update().get(pk=player.pk)
        if player.kyc_status == status:
            return player
        before = {"kyc_status": player.kyc_status, "verified_at": _iso(player.verified_at)}
        player.kyc_status = status
        if status == KycStatus.VERIFIED and player.verified_at is None:
            player.verified_at = timezone.now()
        player.save(update_fields=["kyc_status", "verified_at", "updated_at"])
        audit_record(actor=actor_user, action="player.kyc_set", target=player, before=before,
                     after={"kyc_status": status, "verified_at": _iso(player.verified_at)}, reason=reason)
        crm_event_record(event_type=EventType.USER_UPDATE, player=player)
    return player


def player_roles_set(*, player: Player, roles: list[str], actor_user, reason: str) -> Player:
    """Set the player's roles/tags (VIP, TEST_USER). Locks the player; audited; USER_UPDATE_V2."""
    unknown = set(roles) - set(PlayerRole.values)
    if unknown:
        raise PlayerInputInvalid(fields={"roles": [f"Unknown roles: {', '.join(sorted(unknown))}."]})
    with transaction.atomic():
        player = Player.objects.select_for_update().get(pk=player.pk)
        new_roles = sorted(set(roles))
        if sorted(player.roles) == new_roles:
            return player
        before = {"roles": list(player.roles)}
        player.roles = new_roles
        player.save(update_fields=["roles", "updated_at"])
        audit_record(actor=actor_user, action="player.roles_set", target=player, before=before,
                     after={"roles": new_roles}, reason=reason)
        crm_event_record(event_type=EventType.USER_UPDATE, player=player)
    return player


def player_note_add(*, player: Player, author, text: str) -> PlayerNote:
    """Add a support note. Audited (the note text stays in the note, not in the audit row)."""
    if not text.strip():
        raise PlayerInputInvalid(fields={"text": ["Write a note."]})
    with transaction.atomic():
        note = PlayerNote.objects.create(player=player, author=author, text=text.strip())
        audit_record(actor=author, action="player.note_add", target=player, after={"note_id": note.pk})
    return note


def _iso(value):
    return value.isoformat() if value else None

