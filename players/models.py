"""Player accounts (PAM): the source of truth for who a player is and what they may do.

Design:
- `Player` is not a Django auth user. Staff are `auth.User`; players have their own table (hashed
  password, own session key and API tokens), so a million players never touch staff auth and a
  staff permission can never leak to a player.
- Consents are six booleans on the player (what Fast Track reads) with every change kept in
  `ConsentChange`.
- Blocks are rows with a start, an optional end and a lift; the effective "blocked" and "excluded"
  flags are derived from the rows active now (see `selectors.player_block_flags`). The account
  `status` follows them and is kept in step by the block services and the periodic sweep.
- A responsible-gaming limit is one row per (player, kind, period) holding the value in force and at
  most one pending looser change with the time it takes effect; every request is kept in `LimitChange`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils import timezone


class Brand(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    origin = models.CharField(max_length=255, help_text="Site domain sent to CRMs as `origin`.")
    default_market = models.CharField(max_length=40, blank=True, default="")

    def __str__(self) -> str:
        return self.name


class AccountStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    BLOCKED = "BLOCKED", "Blocked"
    SUSPENDED = "SUSPENDED", "Suspended"
    SELF_EXCLUDED = "SELF_EXCLUDED", "Self-excluded"
    DEACTIVATED = "DEACTIVATED", "Deactivated"
    PENDING = "PENDING", "Pending"


class KycStatus(models.TextChoices):
    NOT_STARTED = "NOT_STARTED", "Not started"
    PENDING = "PENDING", "Pending review"
    VERIFIED = "VERIFIED", "Verified"
    REJECTED = "REJECTED", "Rejected"


class Sex(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"


class PlayerRole(models.TextChoices):
    VIP = "VIP", "VIP"
    TEST_USER = "TEST_USER", "Test user"


class ConsentChannel(models.TextChoices):
    """The six channels Fast Track knows, with their contract names as values."""

    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    TELEPHONE = "telephone", "Telephone"
    POST_MAIL = "postMail", "Post mail"
    SITE_NOTIFICATION = "siteNotification", "Site notification"
    PUSH_NOTIFICATION = "pushNotification", "Push notification"


CONSENT_FIELDS = {
    ConsentChannel.EMAIL: "consent_email",
    ConsentChannel.SMS: "consent_sms",
    ConsentChannel.TELEPHONE: "consent_telephone",
    ConsentChannel.POST_MAIL: "consent_post_mail",
    ConsentChannel.SITE_NOTIFICATION: "consent_site_notification",
    ConsentChannel.PUSH_NOTIFICATION: "consent_push_notification",
}


class Player(models.Model):
    # Sent to CRMs as a string of digits; Fast Track reads it as a 32-bit integer.
    id = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="players")
    # Unique regardless of case (constraints below); e-mails are stored lower-cased.
    username = models.CharField(max_length=150)
    email = models.EmailField(max_length=254)
    password = models.CharField(max_length=128)

    title = models.CharField(max_length=20, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    sex = models.CharField(max_length=10, choices=Sex.choices, blank=True, default="")
    birth_date = models.DateField()
    address = models.CharField(max_length=255, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    postal_code = models.CharField(max_length=20, blank=True, default="")
    mobile_prefix = models.CharField(max_length=6, blank=True, default="")
    mobile = models.CharField(max_length=20, blank=True, default="")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    market = models.CharField(max_length=40, blank=True, default="")
    language = models.CharField(max_length=2, help_text="ISO 639-1")
    currency = models.CharField(max_length=3, help_text="ISO 4217; fixed once set")
    origin = models.CharField(max_length=255, help_text="Site domain the player registered on")
    affiliate_reference = models.CharField(max_length=255, blank=True, default="")
    registration_code = models.CharField(max_length=100, blank=True, default="")

    registered_at = models.DateTimeField(default=timezone.now)
    verified_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=AccountStatus.choices, default=AccountStatus.ACTIVE)
    kyc_status = models.CharField(max_length=20, choices=KycStatus.choices, default=KycStatus.NOT_STARTED)
    roles = ArrayField(models.CharField(max_length=20, choices=PlayerRole.choices), default=list, blank=True)

    consent_email = models.BooleanField(default=False)
    consent_sms = models.BooleanField(default=False)
    consent_telephone = models.BooleanField(default=False)
    consent_post_mail = models.BooleanField(default=False)
    consent_site_notification = models.BooleanField(default=False)
    consent_push_notification = models.BooleanField(default=False)

    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        permissions = [
            ("block_player", "Can block, unblock and self-exclude players"),
            ("set_kyc_status", "Can set a player's KYC status"),
            ("manage_player_limits", "Can change a player's responsible-gaming limits"),
            ("impersonate_player", "Can log in to the site as a player"),
            ("note_player", "Can add notes to a player"),
            ("view_player_consents", "Can see a player's marketing consents"),
        ]
        indexes = [
            # Support searches: exact e-mail, username prefix, name and mobile, case-insensitive.
            models.Index(OpClass(Upper("username"), name="text_pattern_ops"), name="player_username_prefix"),
            models.Index(OpClass("email", name="varchar_pattern_ops"), name="player_email_prefix"),
            # text_pattern_ops: LIKE 'X%' can use a btree only with it (or under the plain C collation);
            # without it the last-name half of player_search's OR scanned all players (270 ms at 1M).
            models.Index(OpClass(Upper("last_name"), name="text_pattern_ops"),
                         OpClass(Upper("first_name"), name="text_pattern_ops"), name="player_name_prefix"),
            models.Index(fields=["mobile"], name="player_mobile"),
            models.Index(fields=["-registered_at"], name="player_registered_desc"),
            models.Index(fields=["status"], name="player_status"),
            models.Index(fields=["country"], name="player_country"),
            models.Index(fields=["kyc_status"], name="player_kyc"),
            GinIndex(fields=["roles"], name="player_roles"),
        ]
        constraints = [
            models.UniqueConstraint(Upper("username"), name="player_username_unique_ci"),
            models.UniqueConstraint(fields=["email"], name="player_email_unique"),
            models.CheckConstraint(condition=models.Q(email=Lower("email")),
                                   name="player_email_lowercase"),
            models.CheckConstraint(
                condition=models.Q(status__in=AccountStatus.values), name="player_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.username} (#{self.pk})"

    # DRF and templates ask a request's principal whether it is authenticated.
    is_authenticated = True
    is_anonymous = False

    @property
    def user_id(self) -> str:
        """The id as CRMs receive it."""
        return str(self.pk)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def consents(self) -> dict[str, bool]:
        return {channel.value: getattr(self, field) for channel, field in CONSENT_FIELDS.items()}


class ActorKind(models.TextChoices):
    PLAYER = "player", "Player"
    STAFF = "staff", "Staff"
    CRM = "crm", "CRM"
    SYSTEM = "system", "System"


class ConsentChange(models.Model):
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="consent_changes")
    channel = models.CharField(max_length=20, choices=ConsentChannel.choices)
    opted_in = models.BooleanField()
    changed_at = models.DateTimeField(default=timezone.now)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=40, blank=True, default="", help_text="site, api, admin, fasttrack ...")

    class Meta:
        indexes = [models.Index(fields=["player", "-changed_at"], name="consent_change_player")]
        ordering = ["-changed_at", "-id"]


    def __str__(self) -> str:
        return f"{self.channel} {'in' if self.opted_in else 'out'} for player #{self.player_id}"


class BlockKind(models.TextChoices):
    SELF_EXCLUSION = "SELF_EXCLUSION", "Self-exclusion"
    TIMEOUT = "TIMEOUT", "Time-out"
    OPERATOR = "OPERATOR", "Operator block"


class PlayerBlockQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(
            models.Q(lifted_at__isnull=True) | models.Q(lifted_at__gt=at),
            starts_at__lte=at,
        ).filter(models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=at))


class PlayerBlock(models.Model):
    """A self-exclusion (fixed end or indefinite), a time-out, or an operator block with a reason."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="blocks")
    kind = models.CharField(max_length=20, choices=BlockKind.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty means indefinite.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lift_reason = models.CharField(max_length=500, blank=True, default="")
    # Set once the periodic sweep has applied the end of this block to the player's status.
    expiry_processed = models.BooleanField(default=False)

    objects = PlayerBlockQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["player", "kind"], name="block_player_kind"),
            models.Index(
                fields=["ends_at"], name="block_pending_expiry",
                condition=models.Q(expiry_processed=False, ends_at__isnull=False, lifted_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=models.F("starts_at")),
                name="block_ends_after_start",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="TIMEOUT") | models.Q(ends_at__isnull=False),
                name="block_timeout_has_end",
            ),
        ]
        ordering = ["-starts_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of player #{self.player_id}"

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        lifted = self.lifted_at is not None and self.lifted_at <= at
        ended = self.ends_at is not None and self.ends_at <= at
        return self.starts_at <= at and not lifted and not ended


class LimitKind(models.TextChoices):
    DEPOSIT = "DEPOSIT", "Deposit"
    LOSS = "LOSS", "Loss"
    WAGER = "WAGER", "Wager"
    SESSION_TIME = "SESSION_TIME", "Session time (minutes)"
    REALITY_CHECK = "REALITY_CHECK", "Reality-check interval (minutes)"


class LimitPeriod(models.TextChoices):
    DAY = "DAY", "Daily"
    WEEK = "WEEK", "Weekly"
    MONTH = "MONTH", "Monthly"
    NONE = "", "Not periodic"


# Money limits are per period; time limits are not periodic.
PERIODIC_LIMIT_KINDS = {LimitKind.DEPOSIT, LimitKind.LOSS, LimitKind.WAGER}


class ResponsibleGamingLimit(models.Model):
    """The limit in force for one (player, kind, period), and at most one pending looser change.

    `value` is an amount in the player's currency for money limits, minutes for time limits;
    None means no limit. A stricter value replaces `value` at once; a looser value or a removal is
    parked in `pending_*` until `pending_effective_at` (the cooling-off period).
    """

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="limits")
    kind = models.CharField(max_length=20, choices=LimitKind.choices)
    period = models.CharField(max_length=5, choices=LimitPeriod.choices, blank=True, default="")
    value = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    pending_value = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    pending_removal = models.BooleanField(default=False)
    pending_effective_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "kind", "period"], name="limit_unique_per_period"),
            models.CheckConstraint(condition=models.Q(value__gt=0) | models.Q(value__isnull=True),
                                   name="limit_value_positive"),
            models.CheckConstraint(
                condition=models.Q(pending_effective_at__isnull=True)
                | models.Q(pending_removal=True) | models.Q(pending_value__isnull=False),
                name="limit_pending_is_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["pending_effective_at"], name="limit_pending_due",
                         condition=models.Q(pending_effective_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.get_period_display()} limit of player #{self.player_id}"

    def value_at(self, at=None):
        """The value in force at `at`, counting a pending change whose cooling-off has passed."""
        at = at or timezone.now()
        if self.pending_effective_at is not None and self.pending_effective_at <= at:
            return None if self.pending_removal else self.pending_value
        return self.value


class LimitChange(models.Model):
    """Every limit request, applied at once or after cooling-off, for the history screens."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="limit_changes")
    kind = models.CharField(max_length=20, choices=LimitKind.choices)
    period = models.CharField(max_length=5, choices=LimitPeriod.choices, blank=True, default="")
    old_value = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    new_value = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    effective_at = models.DateTimeField()
    immediate = models.BooleanField()
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        indexes = [models.Index(fields=["player", "-requested_at"], name="limit_change_player")]
        ordering = ["-requested_at", "-id"]


    def __str__(self) -> str:
        return f"{self.kind} {self.period} limit request of player #{self.player_id}"


class PlayerLogin(models.Model):
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="logins")
    logged_in_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True, default="")
    channel = models.CharField(max_length=10, default="site", help_text="site or api")
    impersonated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        indexes = [models.Index(fields=["player", "-logged_in_at"], name="login_player_recent")]
        ordering = ["-logged_in_at", "-id"]

    def __str__(self) -> str:
        return f"Login of player #{self.player_id} at {self.logged_in_at:%Y-%m-%d %H:%M}"

    @property
    def is_impersonated(self) -> bool:
        return self.impersonated_by_id is not None


class PlayerToken(models.Model):
    """An API token for a player client. Only the SHA-256 of the key is stored."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)


    def __str__(self) -> str:
        return f"API token of player #{self.player_id}"


class PlayerNote(models.Model):
    """A support or compliance note on a player."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Note on player #{self.player_id}"
