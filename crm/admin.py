"""Back-office for the CRM outbox: read-only rows, the delivery lag, and retry / replay actions."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from crm import selectors, services
from crm.models import OperatorApiKey, OutboxEvent
from crm.operator_api import services as operator_api_services
from igaming.admin_tools import CappedCountPaginator, run_with_reason


def duration_text(seconds: float) -> str:
    """3.2 s, 4 min 10 s, 2 h 5 min, 3 d 4 h: how long the oldest waiting event has waited."""
    seconds = int(seconds) if seconds >= 10 else round(seconds, 1)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("id", "event_type", "player_id", "status", "attempts", "created_at", "next_attempt_at",
                    "delivered_at", "last_status_code", "error_excerpt")
    list_filter = ("status", "event_type")
    search_fields = ("player_id",)  # the search itself is outbox_search(); see get_search_results
    search_help_text = "A player id, or an event id (UUID)."
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    ordering = ("-id",)
    fields = ("id", "event_id", "event_type", "player_id", "status", "attempts", "created_at", "next_attempt_at",
              "claimed_until", "give_up_at", "delivered_at", "last_status_code", "last_error", "replay_of",
              "payload_json")
    readonly_fields = fields
    actions = ["retry_now", "replay"]

    def has_add_permission(self, request):
        return False  # events are written by the services of the changes that cause them

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # the outbox is the record of what was sent

    def has_retry_permission(self, request):
        return request.user.has_perm("crm.retry_outboxevent")

    def has_replay_permission(self, request):
        return request.user.has_perm("crm.replay_outboxevent")

    @admin.display(description="last error")
    def error_excerpt(self, obj):
        return obj.last_error[:80]

    @admin.display(description="payload")
    def payload_json(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.payload, indent=2, sort_keys=True))

    def get_search_results(self, request, queryset, search_term):
        return selectors.outbox_search(search_term, queryset), False

    def changelist_view(self, request, extra_context=None):
        health = selectors.outbox_health()
        extra_context = {**(extra_context or {}), "delivery_health": health,
                         "delivery_lag": duration_text(health.lag_seconds)}
        return super().changelist_view(request, extra_context)

    @admin.action(description="Retry now (pending or dead-lettered events)", permissions=["retry"])
    def retry_now(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Retry CRM events now",
                               apply=lambda event, data: services.outbox_event_retry(
                                   event_pk=event.pk, actor=request.user, reason=data["reason"]))

    @admin.action(description="Replay (send a delivered event again, as a new event)", permissions=["replay"])
    def replay(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Replay CRM events",
                               apply=lambda event, data: services.outbox_event_replay(
                                   event_pk=event.pk, actor=request.user, reason=data["reason"]))


# -- Operator API keys (the credentials Fast Track uses to call us) ------------------------------------------

@admin.register(OperatorApiKey)
class OperatorApiKeyAdmin(admin.ModelAdmin):
    """Keys are created with `manage.py operator_api_key create` (the secret is shown once, there);
    here staff see who has access, when each key was last used, and revoke keys with a reason."""

    list_display = ("name", "client_id", "state", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("client_id", "name")
    ordering = ("-created_at",)
    fields = ("name", "client_id", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # a secret must be shown once to whoever creates the key: see the management command

    def has_delete_permission(self, request, obj=None):
        return False  # revoked keys stay, so that the audit trail keeps pointing at something

    @admin.display(description="state")
    def state(self, obj):
        return "active" if obj.is_active else "revoked"

    @admin.action(description="Revoke (the key and its bearer tokens stop working at once)", permissions=["change"])
    def revoke(self, request, queryset):
        return run_with_reason(self, request, queryset, title="Revoke Operator API keys",
                               apply=lambda key, data: operator_api_services.operator_api_key_revoke(
                                   client_id=key.client_id, actor=request.user, reason=data["reason"]))
