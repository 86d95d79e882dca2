"""Pieces every back-office screen on a big table uses."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connection
from django.template.response import TemplateResponse
from django.utils.functional import cached_property

from igaming.errors import DomainError

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP + 1 rows, so a changelist over millions of rows stays fast.

    Past the cap the admin shows "10001 results" and pages up to the cap: agents search, they do
    not page through a million players.
    """

    @cached_property
    def count(self) -> int:
        query = self.object_list.order_by()[: COUNT_CAP + 1]
        try:
            sql, params = query.values("pk").query.sql_with_params()
        except EmptyResultSet:  # a search that can match nothing (queryset.none(), pk__in=[])
            return 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS capped", params)
            return cursor.fetchone()[0]


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=500,
                             help_text="Required. Stored in the audit trail.")


def run_with_reason(modeladmin, request, queryset, *, title: str, form_class=ReasonForm, apply):
    """An admin action that asks for a reason (and any other fields) before it calls a service.

    `apply(obj, cleaned_data)` calls the service for one object; a DomainError becomes a message.
    """
    form = form_class(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data)
                done += 1
            except DomainError as error:
                modeladmin.message_user(request, f"{obj}: {error.message}", messages.ERROR)
        if done:
            modeladmin.message_user(request, f"{title}: done for {done} of {len(queryset)}.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "objects": queryset,
        "form": form,
        "action": request.POST.get("action"),
        "opts": modeladmin.model._meta,
        "selected": request.POST.getlist("_selected_action"),
    }
    return TemplateResponse(request, "admin/action_with_reason.html", context)
