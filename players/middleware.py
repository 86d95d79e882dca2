from players.selectors import player_get

SESSION_PLAYER_KEY = "player_id"
SESSION_IMPERSONATOR_KEY = "impersonated_by"


class PlayerSessionMiddleware:
    """Sets `request.player` from the site session (None when no player is logged in)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        player_id = request.session.get(SESSION_PLAYER_KEY)
        request.player = player_get(player_id) if player_id else None
        return self.get_response(request)
