"""The player site: server-rendered pages on the same services as the API."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from igaming.errors import DomainError
from players import forms, selectors
from players.api import client_ip, user_agent
from players.middleware import SESSION_IMPERSONATOR_KEY, SESSION_PLAYER_KEY
from players.models import ActorKind, BlockKind, PlayerBlock
from players.services import accounts, auth, blocks, consents, limits


def player_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.player is None:
            return redirect(f"/login?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def show_domain_error(form, error: DomainError) -> None:
    """Put a service's refusal on the form: field errors where the field exists, else on top."""
    for field, field_messages in error.fields.items():
        for message in field_messages:
            form.add_error(field if field in form.fields else None, message)
    if not error.fields:
        form.add_error(None, error.message)


def start_session(request, player, impersonated_by=None) -> None:
    request.session.cycle_key()
    request.session[SESSION_PLAYER_KEY] = player.pk
    if impersonated_by is not None:
        request.session[SESSION_IMPERSONATOR_KEY] = impersonated_by.pk


def home(request):
    return render(request, "site/home.html")


@require_http_methods(["GET", "POST"])
def register(request):
    form = forms.RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if not key.startswith("consent_")}
        try:
            player = accounts.player_register(**data, consents=form.consents(), ip_address=client_ip(request),
                                              user_agent=user_agent(request))
        except DomainError as error:
            show_domain_error(form, error)
        else:
            result = auth.player_login(identifier=player.username, password=data["password"],
                                       ip_address=client_ip(request), user_agent=user_agent(request))
            start_session(request, result.player)
            messages.success(request, "Welcome! Your account is ready.")
            return redirect("/profile")
    return render(request, "site/register.html", {"form": form})


@require_http_methods(["GET", "POST"])
def login(request):
    form = forms.LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = auth.player_login(identifier=form.cleaned_data["username"], password=form.cleaned_data["password"],
                                       ip_address=client_ip(request), user_agent=user_agent(request))
        except DomainError as error:
            show_domain_error(form, error)
        else:
            start_session(request, result.player)
            next_url = request.GET.get("next", "")
            return redirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/profile")
    return render(request, "site/login.html", {"form": form})


@require_POST
def logout(request):
    request.session.flush()
    return redirect("/")


@player_required
@require_http_methods(["GET", "POST"])
def profile(request):
    player = request.player
    initial = {field: getattr(player, field) for field in forms.ProfileForm.base_fields}
    form = forms.ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.player_profile_update(player=player, changes=form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Profile saved.")
            return redirect("/profile")
    flags = selectors.player_block_flags(player)
    return render(request, "site/profile.html", {"form": form, "flags": flags,
                                                 "logins": player.logins.all()[:5]})


@player_required
@require_http_methods(["GET", "POST"])
def consents_page(request):
    form = forms.ConsentsForm(request.POST or None, player=request.player)
    if request.method == "POST" and form.is_valid():
        consents.player_consents_set(player=request.player, consents=form.cleaned_data, actor_kind=ActorKind.PLAYER,
                                     ip_address=client_ip(request), source="site")
        messages.success(request, "Your choices are saved.")
        return redirect("/consents")
    history = request.player.consent_changes.all()[:20]
    return render(request, "site/consents.html", {"form": form, "history": history})


@player_required
@require_http_methods(["GET", "POST"])
def limits_page(request):
    form = forms.LimitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            limit = limits.player_limit_set(player=request.player, kind=form.cleaned_data["kind"],
                                            period=form.cleaned_data["period"] or "",
                                            value=form.cleaned_data["value"] or None)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            if limit.pending_effective_at:
                messages.info(request, f"Your change takes effect on {limit.pending_effective_at:%Y-%m-%d %H:%M} UTC "
                                       "after the cooling-off period.")
            else:
                messages.success(request, "Your limit is in force now.")
            return redirect("/limits")
    return render(request, "site/limits.html", {
        "form": form, "limits": selectors.player_limits(request.player),
        "history": request.player.limit_changes.all()[:20], "currency": request.player.currency,
    })


def _active(player, kind):
    return PlayerBlock.objects.active().filter(player=player, kind=kind).order_by("-starts_at")


@player_required
@require_http_methods(["GET", "POST"])
def self_exclusion(request):
    form = forms.SelfExclusionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        days = form.cleaned_data["length"]
        until = timezone.now() + timedelta(days=int(days)) if days else None
        try:
            blocks.player_self_exclude(player=request.player, until=until)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.warning(request, "You are self-excluded. You can still log in to withdraw your balance.")
            return redirect("/self-exclusion")
    return render(request, "site/self_exclusion.html",
                  {"form": form, "active": _active(request.player, BlockKind.SELF_EXCLUSION)})


@player_required
@require_http_methods(["GET", "POST"])
def timeout(request):
    form = forms.TimeoutForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            blocks.player_timeout(player=request.player, duration=timedelta(hours=int(form.cleaned_data["hours"])))
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.warning(request, "Your break has started.")
            return redirect("/timeout")
    return render(request, "site/timeout.html", {"form": form, "active": _active(request.player, BlockKind.TIMEOUT)})
