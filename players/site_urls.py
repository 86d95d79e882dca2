from django.urls import path

from players import site

urlpatterns = [
    path("", site.home, name="home"),
    path("register", site.register, name="register"),
    path("login", site.login, name="login"),
    path("logout", site.logout, name="logout"),
    path("profile", site.profile, name="profile"),
    path("consents", site.consents_page, name="consents"),
    path("limits", site.limits_page, name="limits"),
    path("self-exclusion", site.self_exclusion, name="self-exclusion"),
    path("timeout", site.timeout, name="timeout"),
]
