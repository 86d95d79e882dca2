from django.urls import path

from games import site

urlpatterns = [
    path("lobby", site.lobby, name="lobby"),
    path("lobby/games/<int:game_id>/launch", site.launch, name="game-launch"),
    path("play/<int:session_id>", site.play, name="game-play"),
    path("play/<int:session_id>/close", site.close, name="game-close"),
]
