from django.urls import path

from players import api

app_name = "players-api"

urlpatterns = [
    path("register", api.RegisterView.as_view(), name="register"),
    path("login", api.LoginView.as_view(), name="login"),
    path("logout", api.LogoutView.as_view(), name="logout"),
    path("me", api.MeView.as_view(), name="me"),
    path("me/consents", api.ConsentsView.as_view(), name="consents"),
    path("me/limits", api.LimitsView.as_view(), name="limits"),
    path("me/self-exclusion", api.SelfExclusionView.as_view(), name="self-exclusion"),
    path("me/timeout", api.TimeoutView.as_view(), name="timeout"),
]
