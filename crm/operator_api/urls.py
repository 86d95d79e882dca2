"""Fast Track's Operator API, mounted at /fasttrack/ (the tails are Fast Track's, fixed)."""

from django.urls import path, re_path

from crm.operator_api import views

app_name = "operator-api"

urlpatterns = [
    path("userdetails/<str:user_id>", views.UserDetailsView.as_view(), name="userdetails"),
    path("userblocks/<str:user_id>", views.UserBlocksView.as_view(), name="userblocks"),
    path("userconsents/<str:user_id>", views.UserConsentsView.as_view(), name="userconsents"),
    path("reconciliation", views.ReconciliationView.as_view(), name="reconciliation"),
    path("authenticate", views.AuthenticateView.as_view(), name="authenticate"),
    path("oauth/token", views.TokenView.as_view(), name="token"),
    # Keep last: anything else under the prefix is a 404 in the contract's error shape.
    re_path(r"", views.not_found),
]
