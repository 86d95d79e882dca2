from django.urls import path

from games import api

app_name = "games-api"

urlpatterns = [
    path("", api.CatalogView.as_view(), name="catalog"),
    path("<int:game_id>/launch", api.LaunchView.as_view(), name="launch"),
    path("sessions/", api.SessionsView.as_view(), name="sessions"),
    path("sessions/<int:session_id>", api.SessionView.as_view(), name="session"),
    path("sessions/<int:session_id>/close", api.SessionCloseView.as_view(), name="session-close"),
    path("sessions/<int:session_id>/reality-check", api.RealityCheckView.as_view(), name="reality-check"),
]
