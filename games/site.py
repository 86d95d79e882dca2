"""The lobby and the game page of the player site, on the same services as the games API.

Launching keeps the provider's launch URL (it carries the session token) in the player's site
session only, so the token is never in a URL of ours, a log line or the database.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from games import selectors
from games.exceptions import GamesError
from games.services import sessions
from games.services.play import balance_of
from players.api import client_ip
from players.site import player_required

LAUNCH_KEY = "game_launch_urls"


@require_GET
def lobby(request):
    player = request.player
    now = timezone.now()
    context = {"games": selectors.game_catalog(country=player.country if player else None)}
    if player is not None:
        recent = list(selectors.player_sessions(player)[:10])
        context |= {
            "balance": balance_of(player),
            "sessions": recent,
            "reality_checks": [(session, check) for session in recent
                               if (check := selectors.session_reality_check(session, now)) and check.due],
        }
    return render(request, "site/lobby.html", context)


@player_required
@require_POST
def launch(request, game_id: int):
    try:
        started = sessions.game_launch(player=request.player, game_id=game_id, ip_address=client_ip(request))
    except GamesError as error:
        messages.error(request, error.message)
        return redirect("/lobby")
    urls = request.session.get(LAUNCH_KEY, {})
    # Keep the few latest launches only: the site session is not a store.
    urls = dict(list(urls.items())[-4:]) | {str(started.session.pk): started.launch_url}
    request.session[LAUNCH_KEY] = urls
    return redirect(f"/play/{started.session.pk}")


@player_required
@require_GET
def play(request, session_id: int):
    session = selectors.session_for_player(request.player, session_id)
    if session is None:
        raise Http404
    launch_url = request.session.get(LAUNCH_KEY, {}).get(str(session.pk))
    return render(request, "site/game.html", {
        "session": session, "launch_url": launch_url if session.is_active else None,
        "reality_check": selectors.session_reality_check(session, timezone.now()),
        "balance": balance_of(request.player),
    })


@player_required
@require_POST
def close(request, session_id: int):
    try:
        sessions.game_session_close(player=request.player, session_id=session_id)
    except GamesError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Game closed.")
    request.session[LAUNCH_KEY] = {key: url for key, url in request.session.get(LAUNCH_KEY, {}).items()
                                   if key != str(session_id)}
    return redirect("/lobby")
