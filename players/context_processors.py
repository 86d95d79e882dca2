def current_player(request):
    return {"player": getattr(request, "player", None)}
