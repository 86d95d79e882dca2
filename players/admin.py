"""Back-office for players: search, profile page, and actions that call the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import path
from django.utils import timezone

from audit.models import AuditEntry
from crm import selectors as crm_selectors
from igaming.admin_tools import CappedCountPaginator, ReasonForm, run_with_reason
from igaming.errors import DomainError
from players import selectors
from players.api import client_ip, user_agent
from players.models import (
    Brand,
    ConsentChange,
    KycStatus,
    LimitChange,
    Player,
    PlayerBlock,
    PlayerLogin,
    PlayerNote,
    ResponsibleGamingLimit,
)
from players.services import accounts, auth, blocks
from players.site import start_session


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False
    max_num = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class BlockInline(ReadOnlyInline):
    model = PlayerBlock
    fields = ("kind", "starts_at", "ends_at", "reason", "created_by", "lifted_at", "lifted_by", "lift_reason")
    readonly_fields = fields


class LimitInline(ReadOnlyInline):
    model = ResponsibleGamingLimit
    fields = ("kind", "period", "value", "pending_value", "pending_removal", "pending_effective_at")
    readonly_fields = fields


class LimitChangeInline(ReadOnlyInline):
    model = LimitChange
    fields = ("requested_at", "kind", "period", "old_value", "new_value", "effective_at", "immediate",
              "actor_kind", "actor_user")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor_user")


class ConsentChangeInline(ReadOnlyInline):
    model = ConsentChange
    fields = ("changed_at", "channel", "opted_in", "actor_kind", "actor_user", "source", "ip_address")
    readonly_fields = fields

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("players.view_player_consents")


class LoginInline(ReadOnlyInline):
    model = PlayerLogin
    fields = ("logged_in_at", "channel", "ip_address", "user_agent", "impersonated_by")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("impersonated_by")


class NoteInline(admin.TabularInline):
    model = PlayerNote
    extra = 0
    fields = ("created_at", "author", "text")
    readonly_fields = ("created_at", "author", "text")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class BlockedFilter(admin.SimpleListFilter):
    title = "blocked / excluded"
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        return [("blocked", "Blocked"), ("excluded", "Excluded")]

    def queryset(self, request, queryset):
        if self.value() == "blocked":
            return queryset.filter(pk__in=selectors.players_blocked().values("pk"))
        if self.value() == "excluded":
            return queryset.filter(pk__in=selectors.players_excluded().values("pk"))
        return queryset


class CountryFilter(admin.SimpleListFilter):
    """Countries that have players; cached, since DISTINCT over millions of rows is not free."""

    title = "country"
    parameter_name = "country"

    def lookups(self, request, model_admin):
        countries = cache.get_or_set(
            "admin:player-countries",
            lambda: list(Player.objects.order_by("country").values_list("country", flat=True).distinct()),
            timeout=600,
        )
        return [(code, code) for code in countries]

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


class PlayerAdminForm(forms.ModelForm):
    """Staff edits go through `player_profile_update`; the rules are checked here to show errors inline."""

    class Meta:
        model = Player
        fields = sorted(accounts.STAFF_EDITABLE_FIELDS - {"currency"})

    def clean(self):
        cleaned = super().clean()
        changed = {field: cleaned.get(field) for field in self.changed_data if field in cleaned}
        for field, messages_ in accounts.profile_errors(changed, timezone.localdate()).items():
            for message in messages_:
                self.add_error(field if field in self.fields else None, message)
        return cleaned


class KycForm(ReasonForm):
    status = forms.ChoiceField(choices=KycStatus.choices)


class BlockForm(ReasonForm):
    until = forms.DateTimeField(required=False, help_text="Empty for an indefinite block (UTC, YYYY-MM-DD HH:MM)")


class SelfExcludeForm(ReasonForm):
    until = forms.DateTimeField(required=False, help_text="Empty for indefinite; at least 30 days from now")


@admin.register(Player)
class PlayerAdmin(admin.ModelAdmin):
    form = PlayerAdminForm
    list_display = ("id", "username", "email", "full_name", "country", "currency", "status", "kyc_status",
                    "registered_at")
    list_display_links = ("id", "username")
    list_filter = ("status", CountryFilter, "kyc_status", BlockedFilter, "registered_at")
    search_fields = ("username",)  # the search itself is player_search(); see get_search_results
    search_help_text = "Id, exact e-mail, mobile, or the start of a username or last name."
    list_select_related = ("brand",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ("-id",)
    readonly_fields = ("id", "username", "brand", "origin", "currency", "registered_at", "verified_at",
                       "status", "kyc_status", "roles", "updated_at")
    fieldsets = [
        ("Account", {"fields": ("id", "username", "brand", "origin", "currency", "status", "kyc_status",
                                "roles", "registered_at", "verified_at", "updated_at")}),
        ("Identity", {"fields": ("title", "first_name", "last_name", "birth_date", "email",
                                 ("mobile_prefix", "mobile"))}),
        ("Address", {"fields": ("address", "city", "postal_code", "country", "market")}),
        ("Marketing", {"fields": ("affiliate_reference", "registration_code")}),
    ]
    inlines = [BlockInline, LimitInline, LimitChangeInline, ConsentChangeInline, LoginInline, NoteInline]
    actions = ["block_players", "unblock_players", "self_exclude_players", "lift_exclusion", "set_kyc_status",
               "add_note"]

    def has_add_permission(self, request):
        return False  # players register themselves

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are closed (DEACTIVATED), never deleted: the ledger refers to them

    def has_block_permission(self, request):
        return request.user.has_perm("players.block_player")

    def has_kyc_permission(self, request):
        return request.user.has_perm("players.set_kyc_status")

    def has_note_permission(self, request):
        return request.user.has_perm("players.note_player")

    @admin.display(description="name")
    def full_name(self, obj):
        return obj.full_name

    def get_search_results(self, request, queryset, search_term):
        return selectors.player_search(search_term, queryset), False

    def save_model(self, request, obj, form, change):
        changes = {field: form.cleaned_data[field] for field in form.changed_data}
        try:
            accounts.player_profile_update(player=obj, changes=changes, actor_user=request.user,
                                           reason="edited in the back-office")
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        player = selectors.player_get(object_id)
        extra_context = extra_context or {}
        if player is not None:
            extra_context.update(
                flags=selectors.player_block_flags(player),
                consents=player.consents(),
                can_view_consents=request.user.has_perm("players.view_player_consents"),
                can_impersonate=request.user.has_perm("players.impersonate_player"),
                audit_entries=AuditEntry.objects.filter(target_type="players.player", target_id=str(player.pk))
                .select_related("actor")[:50],
                crm_timeline=crm_selectors.player_timeline(player.pk),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path("<int:player_id>/impersonate/", self.admin_site.admin_view(self.impersonate_view),
                 name="players_player_impersonate"),
            *super().get_urls(),
        ]

    def impersonate_view(self, request, player_id):
        if request.method != "POST" or not request.user.has_perm("players.impersonate_player"):
            raise PermissionDenied
        player = get_object_or_404(Player, pk=player_id)
        auth.player_impersonate(player=player, staff_user=request.user, ip_address=client_ip(request),
                                user_agent=user_agent(request))
        start_session(request, player, impersonated_by=request.user)
        return redirect("/profile")

    @admin.action(description="Block (operator block, with a reason)", permissions=["block"])
    def block_players(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Block players", form_class=BlockForm,
                               apply=lambda player, data: blocks.player_block(
                                   player=player, reason=data["reason"], until=data["until"],
                                   actor_user=request.user))

    @admin.action(description="Unblock (lift operator blocks)", permissions=["block"])
    def unblock_players(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Unblock players",
                               apply=lambda player, data: blocks.player_unblock(
                                   player=player, reason=data["reason"], actor_user=request.user))

    @admin.action(description="Self-exclude (on the player's request)", permissions=["block"])
    def self_exclude_players(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Self-exclude players", form_class=SelfExcludeForm,
                               apply=lambda player, data: blocks.player_self_exclude(
                                   player=player, until=data["until"], reason=data["reason"],
                                   actor_user=request.user))

    @admin.action(description="Lift self-exclusion or time-out", permissions=["block"])
    def lift_exclusion(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Lift self-exclusion",
                               apply=lambda player, data: blocks.player_exclusion_lift(
                                   player=player, reason=data["reason"], actor_user=request.user))

    @admin.action(description="Set KYC status", permissions=["kyc"])
    def set_kyc_status(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Set KYC status", form_class=KycForm,
                               apply=lambda player, data: accounts.player_kyc_set(
                                   player=player, status=data["status"], reason=data["reason"],
                                   actor_user=request.user))

    @admin.action(description="Add a note", permissions=["note"])
    def add_note(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Add a note",
                               apply=lambda player, data: accounts.player_note_add(
                                   player=player, author=request.user, text=data["reason"]))


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "origin", "default_market")


