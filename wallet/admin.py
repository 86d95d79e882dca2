"""Back-office for the wallet: read-only ledger screens, the payments screen with the withdrawal
queue, manual adjustments and reconciliation. Every write goes through a service with actor=request.user."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html

from igaming.admin_tools import CappedCountPaginator, ReasonForm, run_with_reason
from wallet import selectors
from wallet.exceptions import WalletInputInvalid
from wallet.models import (
    Account,
    AccountKind,
    Entry,
    LedgerTransaction,
    Payment,
    PaymentKind,
    PaymentStatus,
    PspWebhook,
    ReconciliationRun,
    ReconciliationStatus,
)
from wallet.money import money_str
from wallet.services import payments
from wallet.services.adjustments import balance_adjust
from wallet.services.reconcile import reconcile_run


def player_link(player_id):
    if player_id is None:
        return "house"
    return format_html('<a href="{}">#{}</a>', reverse("admin:players_player_change", args=[player_id]), player_id)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger rows are facts: nobody adds, edits or deletes them here (the database refuses anyway)."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        latest = selectors.reconciliation_latest()
        if latest is not None and latest.status in (ReconciliationStatus.DRIFT, ReconciliationStatus.FAILED):
            self.message_user(request, f"The last reconciliation (#{latest.pk}, {latest.started_at:%Y-%m-%d %H:%M} "
                                       f"UTC) did not pass: {latest.get_status_display()}. See Reconciliation runs.",
                              messages.ERROR)
        return super().changelist_view(request, extra_context)


def _digits(term: str) -> int | None:
    term = term.strip()
    return int(term) if term.isdigit() and len(term) <= 18 else None


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ("account", "account_kind", "amount", "balance_after")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="kind")
    def account_kind(self, entry):
        return entry.account.get_kind_display()

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")


class PaymentStatusFilter(admin.SimpleListFilter):
    title = "payment status"
    parameter_name = "payment_status"

    def lookups(self, request, model_admin):
        return PaymentStatus.choices

    def queryset(self, request, queryset):
        return selectors.transaction_search(status=self.value(), queryset=queryset) if self.value() else queryset


class PlayerAmountColumns:
    """The player link and the amount in its currency, for screens of money rows."""

    @admin.display(description="player")
    def player(self, obj):
        return player_link(obj.player_id)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, obj):
        return f"{money_str(obj.amount, obj.currency)} {obj.currency}"


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(PlayerAmountColumns, ReadOnlyAdmin):
    # Ids, not objects, for payment and reversal: no extra query per row on a 10-million-row table.
    list_display = ("id", "created_at", "kind", "player", "amount_display", "source", "external_id", "payment_id",
                    "reverses_id")
    list_filter = ("kind", PaymentStatusFilter, "created_at", "source")
    search_fields = ("external_id",)  # see get_search_results
    search_help_text = "A player id, or an exact external id. Narrow with the filters (kind, payment status, date)."
    ordering = ("-created_at", "-id")
    fields = ("id", "created_at", "kind", "source", "external_id", "player_id", "currency", "amount", "payment",
              "reverses", "actor", "reason")
    readonly_fields = fields
    inlines = [EntryInline]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        player_id = _digits(term)
        if player_id is not None:
            by_player = selectors.transaction_search(player_id=player_id, queryset=queryset)
            return by_player | selectors.transaction_search(external_id=term, queryset=queryset), False
        return selectors.transaction_search(external_id=term, queryset=queryset), False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount", "balance_after")
    search_fields = ("account__id",)
    search_help_text = "An account id: that account's statement, newest first."
    ordering = ("-id",)
    list_select_related = ("account", "transaction")

    def get_search_results(self, request, queryset, search_term):
        account_id = _digits(search_term)
        if not search_term.strip():
            return queryset, False
        return queryset.filter(account_id=account_id) if account_id is not None else queryset.none(), False


class AdjustForm(ReasonForm):
    direction = forms.ChoiceField(choices=[("credit", "Credit (add money)"), ("debit", "Debit (take money)")])
    amount = forms.CharField(max_length=40, help_text="In the account's currency, e.g. 10.50")
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["idempotency_key"].initial = uuid.uuid4().hex


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "player", "kind", "currency", "shard", "balance_display", "updated_at", "statement")
    list_filter = ("kind", "currency")
    search_fields = ("player__id",)
    search_help_text = "A player id: that player's accounts."
    ordering = ("id",)
    fields = ("id", "player_id", "kind", "currency", "shard", "balance", "created_at", "updated_at")
    readonly_fields = fields
    actions = ["adjust_balance"]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "house_balances": selectors.house_balances()}
        return super().changelist_view(request, extra_context)

    @admin.display(description="player")
    def player(self, obj):
        return player_link(obj.player_id)

    @admin.display(description="balance", ordering="balance")
    def balance_display(self, obj):
        return money_str(obj.balance, obj.currency)

    @admin.display(description="entries")
    def statement(self, obj):
        return format_html('<a href="{}?q={}">statement</a>', reverse("admin:wallet_entry_changelist"), obj.pk)

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        player_id = _digits(search_term)
        return queryset.filter(player_id=player_id) if player_id is not None else queryset.none(), False

    def has_adjust_permission(self, request):
        return request.user.has_perm("wallet.adjust_balance")

    @admin.action(description="Adjust balance (credit or debit, with a reason)", permissions=["adjust"])
    def adjust_balance(self, request, queryset):
        def apply(account, data):
            if account.is_house or account.kind not in (AccountKind.REAL, AccountKind.BONUS):
                raise WalletInputInvalid("Only a player's real or bonus money is adjusted by hand.")
            balance_adjust(player=account.player, account_kind=account.kind, credit=data["direction"] == "credit",
                           amount=data["amount"], currency=account.currency,
                           external_id=f"adm-{data['idempotency_key']}-{account.pk}", actor=request.user,
                           reason=data["reason"])

        return run_with_reason(self, request, queryset.select_related("player"), title="Adjust balance",
                               form_class=AdjustForm, apply=apply)


class WithdrawalQueueFilter(admin.SimpleListFilter):
    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("withdrawals", "Withdrawals waiting for a decision"),
                ("payouts", "Approved payouts not confirmed by the PSP")]

    def queryset(self, request, queryset):
        if self.value() == "withdrawals":
            return queryset.filter(kind=PaymentKind.WITHDRAWAL, status=PaymentStatus.REQUESTED)
        if self.value() == "payouts":
            return queryset.filter(kind=PaymentKind.WITHDRAWAL, status=PaymentStatus.APPROVED,
                                   payout_status__in=["PENDING", "SENT"])
        return queryset


@admin.register(Payment)
class PaymentAdmin(PlayerAmountColumns, ReadOnlyAdmin):
    list_display = ("id", "created_at", "player", "kind", "status", "amount_display", "payout_status",
                    "psp_reference", "decided_by")
    list_filter = (WithdrawalQueueFilter, "kind", "status", "payout_status", "created_at")
    search_fields = ("external_id",)
    search_help_text = "A payment id or player id, or an exact idempotency key or PSP reference."
    list_select_related = ("decided_by",)
    ordering = ("-created_at", "-id")
    fields = ("id", "player_id", "kind", "status", "amount", "currency", "external_id", "psp_reference",
              "payout_status", "created_at", "updated_at", "decided_at", "decided_by", "reason")
    readonly_fields = fields
    actions = ["approve_withdrawals", "reject_withdrawals"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        number = _digits(term)
        matches = queryset.filter(external_id=term) | queryset.filter(psp_reference=term)
        if number is not None:
            matches = matches | queryset.filter(pk=number) | queryset.filter(player_id=number)
        return matches, False

    def changelist_view(self, request, extra_context=None):
        queue = selectors.withdrawal_queue()
        extra_context = {**(extra_context or {}), "queue_count": queue.count(), "queue_oldest": queue.first()}
        return super().changelist_view(request, extra_context)

    def has_decide_permission(self, request):
        return request.user.has_perm("wallet.approve_withdrawal")

    @admin.action(description="Approve withdrawals (pay out)", permissions=["decide"])
    def approve_withdrawals(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Approve withdrawals",
                               apply=lambda payment, data: payments.withdrawal_approve(
                                   payment_id=payment.pk, actor=request.user, reason=data["reason"]))

    @admin.action(description="Reject withdrawals (release the money)", permissions=["decide"])
    def reject_withdrawals(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Reject withdrawals",
                               apply=lambda payment, data: payments.withdrawal_reject(
                                   payment_id=payment.pk, actor=request.user, reason=data["reason"]))


@admin.register(PspWebhook)
class PspWebhookAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "event_type", "event_id", "payment", "result")
    list_select_related = ("payment",)
    list_filter = ("event_type",)
    search_fields = ("=event_id",)
    ordering = ("-received_at", "-id")
    fields = ("event_id", "event_type", "payment", "received_at", "result", "payload")
    readonly_fields = fields


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "started_at", "status_badge", "drift_count", "accounts_checked", "entries_checked",
                    "trigger", "finished_at")
    list_filter = ("status", "trigger")
    ordering = ("-started_at", "-id")
    fields = ("id", "started_at", "finished_at", "status", "trigger", "accounts_checked", "entries_checked",
              "drift_count", "details")
    readonly_fields = fields

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        colour = {"OK": "#067647", "RUNNING": "#667085"}.get(obj.status, "#b42318")
        return format_html('<b style="color:{}">{}</b>', colour, obj.get_status_display())

    def get_urls(self):
        return [path("run/", self.admin_site.admin_view(self.run_view), name="wallet_reconciliationrun_run"),
                *super().get_urls()]

    def run_view(self, request):
        if request.method != "POST" or not request.user.has_perm("wallet.view_reconciliationrun"):
            raise PermissionDenied
        run = reconcile_run(trigger="admin")
        level = messages.SUCCESS if run.status == ReconciliationStatus.OK else messages.ERROR
        self.message_user(request, f"Reconciliation #{run.pk}: {run.get_status_display()} "
                                   f"({run.accounts_checked} accounts, {run.drift_count} problems).", level)
        return redirect("admin:wallet_reconciliationrun_changelist")
