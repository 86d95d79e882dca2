"""Games: the catalog, game sessions, and the record of every call a provider made to our wallet.

Design:
- A `Vendor` is a game provider. Its `code` names it in the signed seamless-wallet requests
  (`X-Provider`) and picks its secret from the environment (`GAME_PROVIDER_SECRETS`); no secret is
  stored in the database. A `Game` belongs to a vendor, whose id for it is `code`.
- A `GameSession` starts when a player launches a game: a random token (only its SHA-256 is kept)
  goes to the provider in the launch URL, and every wallet call names the session by that token.
  It ends on close, on expiry (no activity for `GAME_SESSION_IDLE_MINUTES`), or when the player's
  session-time limit runs out. A session keeps the running totals of its play and when the next
  reality check is due. Wins and rollbacks are taken on an ended session (the round started while it
  was open); bets are not.
- A `GameRound` groups the bets and wins of one provider round (`round_id`, unique per vendor): the
  CASINO events of a round share it, and a round is closed by a win flagged as the round's end
  (a losing round by a win of 0).
- A `GameTransaction` is one money call of a provider, keyed by the provider's transaction id
  (unique per vendor): the idempotency record. It keeps a hash of the request's content and the
  answer we gave, so a retry gets the first answer and the same id with other content is refused.
  A rollback row points at the bet it refunds by the bet's id (unique among rollbacks: at most
  once) and may exist before its bet arrives: the late bet is then refused.
  The money itself moves in the wallet's ledger (`wallet.services.game_play`), as the ledger
  transaction with source `games` and external id `<vendor code>:<transaction id>` (none for a win of
  0 and for a rollback of a bet we never took; `selectors.ledger_transaction_of` finds it).
- A round and a call carry their session's player, game and vendor (for their own keys and lists).
  The database ties them to the session with composite foreign keys, (session, player, game, vendor)
  and (session, player, vendor), and the session to its game with (game, vendor), instead of one
  foreign key per column (migration 0008): a wallet call holds its session locked, so checking
  against that row locks nothing more, where a check against the vendor's and the game's rows, shared
  by every player, made concurrent calls queue on shared row locks (multixacts).
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from players.models import Player

MONEY = {"max_digits": 30, "decimal_places": 8}


class GameType(models.TextChoices):
    """Fast Track's game types, which are also ours."""

    SLOTS = "Slots", "Slots"
    LIVE_CASINO = "Live Casino", "Live Casino"
    TABLE = "Table", "Table"


class Vendor(models.Model):
    code = models.SlugField(max_length=40, unique=True,
                            help_text="Names the provider in signed wallet requests and picks its secret.")
    name = models.CharField(max_length=120)
    enabled = models.BooleanField(default=True)
    launch_url = models.URLField(max_length=500,
                                 help_text="The provider's game page; the launch adds token, game, currency, lang.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Game(models.Model):
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="games")
    code = models.CharField(max_length=100, help_text="The provider's id of the game.")
    name = models.CharField(max_length=200)
    game_type = models.CharField(max_length=20, choices=GameType.choices, default=GameType.SLOTS)
    rtp = models.DecimalField(max_digits=5, decimal_places=2, help_text="Return to player, in percent.",
                              validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))])
    enabled = models.BooleanField(default=True)
    restricted_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True,
                                      help_text="ISO 3166-1 alpha-2 codes where the game may not be played.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "code"], name="game_vendor_code_unique"),
            # The target of the sessions' composite foreign key (game_id, vendor_id).
            models.UniqueConstraint(fields=["id", "vendor"], name="game_id_vendor"),
            models.CheckConstraint(condition=models.Q(rtp__gt=0, rtp__lte=100), name="game_rtp_percent"),
            models.CheckConstraint(condition=models.Q(game_type__in=GameType.values), name="game_type_valid"),
        ]
        indexes = [models.Index(fields=["enabled", "name"], name="game_enabled_name")]

    def __str__(self) -> str:
        return self.name

    def is_restricted_in(self, country: str) -> bool:
        return country.upper() in {code.upper() for code in self.restricted_countries}


class SessionStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    CLOSED = "CLOSED", "Closed"
    EXPIRED = "EXPIRED", "Expired"
    LIMIT_REACHED = "LIMIT_REACHED", "Ended by a limit"


class GameSession(models.Model):
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="game_sessions", db_index=False)
    game = models.ForeignKey(Game, on_delete=models.PROTECT, related_name="sessions", db_index=False)
    # The game's vendor, kept with the session so that its rounds and calls are checked against it.
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="+", db_index=False, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token the provider holds.")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=15, choices=SessionStatus.choices, default=SessionStatus.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(help_text="Ends here unless play goes on (idle expiry).")
    limit_ends_at = models.DateTimeField(null=True, blank=True, help_text="When the session-time limit ends it.")
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True, default="")
    reality_check_minutes = models.PositiveIntegerField(null=True, blank=True)
    reality_check_due_at = models.DateTimeField(null=True, blank=True)
    rounds = models.PositiveIntegerField(default=0)
    total_bet = models.DecimalField(**MONEY, default=0)
    total_win = models.DecimalField(**MONEY, default=0)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["player", "-started_at"], name="game_session_player_recent"),
            models.Index(fields=["game", "-started_at"], name="game_session_game_recent"),
            # The expiry sweep reads only the open sessions. Not on expires_at, which every bet and win
            # moves: an update that changes no indexed column is a HOT update, which writes no index
            # entry (see migration 0005).
            models.Index(fields=["id"], name="game_session_open", condition=models.Q(status="ACTIVE")),
        ]
        constraints = [
            # The targets of the rounds' and the calls' composite foreign keys (migration 0008).
            models.UniqueConstraint(fields=["id", "player", "game", "vendor"], name="game_session_round_key"),
            models.UniqueConstraint(fields=["id", "player", "vendor"], name="game_session_call_key"),
            models.CheckConstraint(condition=models.Q(total_bet__gte=0, total_win__gte=0),
                                   name="game_session_totals_not_negative"),
            models.CheckConstraint(
                condition=models.Q(status="ACTIVE", ended_at__isnull=True)
                | (~models.Q(status="ACTIVE") & models.Q(ended_at__isnull=False)),
                name="game_session_ended_iff_not_active",
            ),
        ]

    def __str__(self) -> str:
        return f"Game session #{self.pk} of player #{self.player_id}"

    @property
    def is_active(self) -> bool:
        return self.status == SessionStatus.ACTIVE


class RoundStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    CLOSED = "CLOSED", "Closed"


class GameRound(models.Model):
    # Session, player, game and vendor: one composite foreign key to the session (see the top).
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="+", db_index=False,
                               db_constraint=False)
    round_id = models.CharField(max_length=100, help_text="The provider's round id.")
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="game_rounds", db_index=False,
                               db_constraint=False)
    session = models.ForeignKey(GameSession, on_delete=models.PROTECT, related_name="game_rounds",
                                db_constraint=False)
    game = models.ForeignKey(Game, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    total_bet = models.DecimalField(**MONEY, default=0)
    total_win = models.DecimalField(**MONEY, default=0)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "round_id"], name="game_round_vendor_round_unique"),
        ]
        indexes = [models.Index(fields=["player", "-created_at"], name="game_round_player_recent")]

    def __str__(self) -> str:
        return f"Round {self.round_id} of player #{self.player_id}"


class TransactionKind(models.TextChoices):
    BET = "BET", "Bet"
    WIN = "WIN", "Win"
    ROLLBACK = "ROLLBACK", "Rollback"


class GameTransaction(models.Model):
    # Session, player and vendor: one composite foreign key to the session (see the top).
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="+", db_index=False,
                               db_constraint=False)
    external_id = models.CharField(max_length=100, help_text="The provider's transaction id.")
    kind = models.CharField(max_length=10, choices=TransactionKind.choices)
    # Indexed by game_tx_player_recent.
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="game_transactions", db_index=False,
                               db_constraint=False)
    session = models.ForeignKey(GameSession, on_delete=models.PROTECT, related_name="transactions",
                                db_constraint=False)
    round = models.ForeignKey(GameRound, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions")
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    real_amount = models.DecimalField(**MONEY, default=0, help_text="Part of the amount in real money.")
    bonus_amount = models.DecimalField(**MONEY, default=0, help_text="Part of the amount in bonus money.")
    reference_id = models.CharField(max_length=100, blank=True, default="",
                                    help_text="For a rollback: the provider's id of the bet it refunds.")
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the request's content, to spot reuse.")
    response = models.JSONField(help_text="The answer we gave, returned again on a retry.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "external_id"], name="game_tx_vendor_external_unique"),
            # A bet is refunded at most once; a rollback that came first blocks its late bet.
            models.UniqueConstraint(fields=["vendor", "reference_id"], condition=models.Q(kind="ROLLBACK"),
                                    name="game_tx_rollback_once"),
            models.CheckConstraint(condition=models.Q(amount__gte=0, real_amount__gte=0, bonus_amount__gte=0),
                                   name="game_tx_amounts_not_negative"),
            models.CheckConstraint(condition=models.Q(amount=models.F("real_amount") + models.F("bonus_amount")),
                                   name="game_tx_amount_is_real_plus_bonus"),
            models.CheckConstraint(condition=~models.Q(kind="ROLLBACK") | ~models.Q(reference_id=""),
                                   name="game_tx_rollback_has_reference"),
        ]
        indexes = [
            # Loss and wager limits sum a player's play in the current period.
            models.Index(fields=["player", "created_at"], name="game_tx_player_recent"),
            models.Index(fields=["-created_at", "-id"], name="game_tx_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id} ({self.amount:f} {self.currency})"


class RequestNonce(models.Model):
    """A signed provider request's nonce, spent: the same request sent again is a replay and is refused.

    Kept for twice the signature's window (GAME_SIGNATURE_MAX_SKEW_SECONDS): a request older than the
    window is refused for its timestamp, so a nonce older than that can no longer come back, and the
    beat's purge deletes it. The wallet server spends a bet's or a win's nonce in the statement that books
    it (migration 0010), so the nonce and the booking commit together.
    """

    pk = models.CompositePrimaryKey("vendor_code", "nonce")
    # Compared byte by byte ("C"): ASCII tokens, looked up on every provider call, never sorted for people.
    vendor_code = models.CharField(max_length=100, db_collation="C")
    nonce = models.CharField(max_length=64, db_collation="C")
    spent_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Nonce {self.nonce} of {self.vendor_code}"
