"""The wallet: the source of truth for money, as a double-entry, append-only ledger.

Design:
- An `Account` holds one kind of money in one currency. Players have three: real money, bonus money
  and a withdrawal hold (real money reserved by a pending withdrawal, so it cannot be bet). The
  house has accounts per kind and currency: PSP clearing (money in transit with the payment
  provider), game settlement, bonus cost, manual adjustments and chargeback losses, each split in a
  few shards so that many players' postings do not all queue on one row lock.
- A `LedgerTransaction` is one money movement: a kind, an external id unique per source (the
  idempotency key: a replay returns the first transaction, the same id with other content is a
  conflict), and two or more `Entry` rows whose signed amounts sum to zero per currency.
  A reversal is a new transaction pointing at the original (`reverses`, unique: at most once).
- The database enforces what it can, so that no code path can break the books:
  a deferred constraint trigger checks at commit that every transaction balances per currency and
  has entries; triggers refuse UPDATE and DELETE of transactions and entries; an entry's currency
  is its account's (composite foreign key); a player account's cached balance is never negative
  (CHECK); an account's kind suits its owner, its currency is supported, and neither changes once
  it is opened (trigger). House accounts may go negative: they are the other side of the players' money.
- `Account.balance` is a cache of the sum of the account's entries, updated by the same database
  transaction under a row lock (accounts locked in primary-key order); `Entry.balance_after` keeps
  the running balance for statements. `wallet_reconcile` proves cache == ledger every night.
- A `Payment` is a deposit or withdrawal through the PSP with its status (the Fast Track PAYMENT
  statuses). Its money movements are ledger transactions linked to it. `PspWebhook` keeps every
  webhook the PSP sent (its event id is unique: a webhook is applied once).
- Amounts are `numeric(30, 8)`: every currency's minor units fit; services quantize to the
  currency's places (`wallet.currencies`) and refuse anything finer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from players.models import Player

MONEY = {"max_digits": 30, "decimal_places": 8}


class AccountKind(models.TextChoices):
    REAL = "REAL", "Real money"
    BONUS = "BONUS", "Bonus money"
    WITHDRAWAL_HOLD = "WITHDRAWAL_HOLD", "Withdrawal hold"
    PSP_CLEARING = "PSP_CLEARING", "House: PSP clearing"
    GAME_SETTLEMENT = "GAME_SETTLEMENT", "House: game settlement"
    BONUS_COST = "BONUS_COST", "House: bonus cost"
    MANUAL_ADJUSTMENTS = "MANUAL_ADJUSTMENTS", "House: manual adjustments"
    CHARGEBACK_LOSS = "CHARGEBACK_LOSS", "House: chargeback losses"


PLAYER_ACCOUNT_KINDS = (AccountKind.REAL, AccountKind.BONUS, AccountKind.WITHDRAWAL_HOLD)
HOUSE_ACCOUNT_KINDS = tuple(kind for kind in AccountKind if kind not in PLAYER_ACCOUNT_KINDS)


class Account(models.Model):
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="wallet_accounts", help_text="Empty for a house account.")
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    # House accounts are split in WALLET_HOUSE_SHARDS rows per kind and currency, each player's postings
    # always on the same one (player id modulo the shard count), so that concurrent payments of different
    # players do not queue on one hot row lock. The house's balance is the sum of its shards.
    shard = models.PositiveSmallIntegerField(default=0)
    balance = models.DecimalField(**MONEY, default=0, help_text="Cache of the sum of the account's entries.")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        permissions = [("adjust_balance", "Can make manual balance adjustments")]
        constraints = [
            models.UniqueConstraint(fields=["player", "kind", "currency"], condition=models.Q(player__isnull=False),
                                    name="wallet_account_player_unique"),
            models.UniqueConstraint(fields=["kind", "currency", "shard"], condition=models.Q(player__isnull=True),
                                    name="wallet_account_house_shard_unique"),
            models.CheckConstraint(condition=models.Q(player__isnull=True) | models.Q(shard=0),
                                   name="wallet_account_player_unsharded"),
            # The target of the entries' composite foreign key (account_id, currency).
            models.UniqueConstraint(fields=["id", "currency"], name="wallet_account_id_currency"),
            models.CheckConstraint(condition=models.Q(player__isnull=True) | models.Q(balance__gte=0),
                                   name="wallet_account_player_balance_not_negative"),
            # The kind matches the owner (player or house) and the currency is supported: checked by the
            # trigger `wallet_account_identity` (migration 0006) when an account is opened, not as CHECKs,
            # which PostgreSQL would compile again on every posting's balance update. It also refuses any
            # change of an opened account's kind, owner, currency or shard.
        ]

    def __str__(self) -> str:
        owner = f"player #{self.player_id}" if self.player_id else f"house, shard {self.shard}"
        return f"{self.get_kind_display()} {self.currency} ({owner})"

    @property
    def is_house(self) -> bool:
        return self.player_id is None


class TransactionKind(models.TextChoices):
    DEPOSIT = "DEPOSIT", "Deposit"
    DEPOSIT_ROLLBACK = "DEPOSIT_ROLLBACK", "Deposit rollback (chargeback)"
    WITHDRAWAL_HOLD = "WITHDRAWAL_HOLD", "Withdrawal hold"
    WITHDRAWAL_RELEASE = "WITHDRAWAL_RELEASE", "Withdrawal release"
    WITHDRAWAL_PAYOUT = "WITHDRAWAL_PAYOUT", "Withdrawal payout"
    WITHDRAWAL_ROLLBACK = "WITHDRAWAL_ROLLBACK", "Withdrawal rollback (payout failed)"
    ADJUSTMENT = "ADJUSTMENT", "Manual adjustment"
    # Booked by wallet.services.game_play for the games app.
    GAME_BET = "GAME_BET", "Game bet"
    GAME_WIN = "GAME_WIN", "Game win"
    GAME_REFUND = "GAME_REFUND", "Game bet refund"


class TransactionSource(models.TextChoices):
    """Who owns the external id: ids are unique per source."""

    PAYMENTS = "payments", "Payments"
    ADMIN = "admin", "Back-office"
    GAMES = "games", "Games"
    BONUSES = "bonuses", "Bonuses"
    SYSTEM = "system", "System"


class PaymentKind(models.TextChoices):
    DEPOSIT = "DEPOSIT", "Deposit"
    WITHDRAWAL = "WITHDRAWAL", "Withdrawal"


class PaymentStatus(models.TextChoices):
    """Fast Track's PAYMENT statuses, which are also ours."""

    REQUESTED = "Requested", "Requested"
    APPROVED = "Approved", "Approved"
    REJECTED = "Rejected", "Rejected"
    CANCELLED = "Cancelled", "Cancelled"
    ROLLBACK = "Rollback", "Rollback"


class PayoutStatus(models.TextChoices):
    """Where an approved withdrawal's payout stands at the PSP."""

    NONE = "", "—"
    PENDING = "PENDING", "To send"
    SENT = "SENT", "Sent to PSP"
    CONFIRMED = "CONFIRMED", "Paid by PSP"
    FAILED = "FAILED", "Failed at PSP"


class Payment(models.Model):
    # Indexed by wallet_payment_player_kind.
    player = models.ForeignKey(Player, on_delete=models.PROTECT, related_name="payments", db_index=False)
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    status = models.CharField(max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.REQUESTED)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    external_id = models.CharField(max_length=100, help_text="The client's idempotency key, unique per player.")
    psp_reference = models.CharField(max_length=100, blank=True, default="")
    payout_status = models.CharField(max_length=10, choices=PayoutStatus.choices, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", db_index=False)
    reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        permissions = [("approve_withdrawal", "Can approve or reject withdrawals")]
        constraints = [
            models.UniqueConstraint(fields=["player", "external_id"], name="wallet_payment_external_id_unique"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="wallet_payment_amount_positive"),
        ]
        indexes = [
            # Deposit limits sum a player's deposits in the current period.
            models.Index(fields=["player", "kind", "created_at"], name="wallet_payment_player_kind"),
            # The withdrawal queue and the payment screens.
            models.Index(fields=["kind", "status", "created_at"], name="wallet_payment_queue"),
            models.Index(fields=["status", "-created_at"], name="wallet_payment_status"),
            models.Index(fields=["psp_reference"], name="wallet_payment_psp_ref",
                         condition=~models.Q(psp_reference="")),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.amount:f} {self.currency} ({self.status})"


class LedgerTransaction(models.Model):
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    source = models.CharField(max_length=20, choices=TransactionSource.choices)
    external_id = models.CharField(max_length=100)
    # Indexed by wallet_tx_player_recent.
    player = models.ForeignKey(Player, null=True, blank=True, on_delete=models.PROTECT,
                               related_name="wallet_transactions", db_index=False)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY, help_text="The amount moved, positive; the entries carry the signs.")
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions",
                                db_index=False)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    created_at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", db_index=False)
    reason = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        verbose_name = "ledger transaction"
        permissions = [("view_ledger", "Can view ledger entries and accounts")]
        constraints = [
            # external_id first, so a search by external id alone uses this index too.
            models.UniqueConstraint(fields=["external_id", "source"], name="wallet_transaction_external_id_unique"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="wallet_transaction_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["player", "-created_at", "-id"], name="wallet_tx_player_recent"),
            models.Index(fields=["kind", "-created_at", "-id"], name="wallet_tx_kind_recent"),
            models.Index(fields=["-created_at", "-id"], name="wallet_tx_recent"),
            models.Index(fields=["payment"], name="wallet_tx_payment", condition=models.Q(payment__isnull=False)),
            models.Index(fields=["actor"], name="wallet_tx_actor", condition=models.Q(actor__isnull=False)),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} {self.amount:f} {self.currency}"


class Entry(models.Model):
    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    # Indexed by wallet_entry_account_recent. The database checks it with the composite foreign key
    # (account_id, currency) of migration 0002, which also says the account exists: a second check of
    # the same row on every entry bought nothing (migration 0008).
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False,
                                db_constraint=False)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY, help_text="Signed: positive adds to the account, negative takes away.")
    balance_after = models.DecimalField(**MONEY)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="wallet_entry_amount_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "-id"], name="wallet_entry_account_recent")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Entry #{self.pk}: {self.amount:+f} {self.currency} on account #{self.account_id}"


class PspWebhook(models.Model):
    """Every webhook the PSP sent that passed the signature check, applied at most once."""

    event_id = models.CharField(max_length=100, unique=True)
    event_type = models.CharField(max_length=40)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="webhooks")
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    result = models.CharField(max_length=200)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = "PSP webhook"

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class ReconciliationStatus(models.TextChoices):
    RUNNING = "RUNNING", "Running"
    OK = "OK", "Balanced"
    DRIFT = "DRIFT", "Drift found"
    FAILED = "FAILED", "Failed"


class ReconciliationRun(models.Model):
    """One run of `wallet_reconcile`: cached balances against the ledger, and the ledger against itself."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ReconciliationStatus.choices,
                              default=ReconciliationStatus.RUNNING)
    trigger = models.CharField(max_length=20, default="command", help_text="command, beat or admin")
    accounts_checked = models.PositiveIntegerField(default=0)
    entries_checked = models.PositiveBigIntegerField(default=0)
    drift_count = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} {self.status}"
