from django.urls import path

from games.seamless import views

app_name = "seamless"

urlpatterns = [
    path("authenticate", views.AuthenticateView.as_view(), name="authenticate"),
    path("balance", views.BalanceView.as_view(), name="balance"),
    path("bet", views.BetView.as_view(), name="bet"),
    path("win", views.WinView.as_view(), name="win"),
    path("rollback", views.RollbackView.as_view(), name="rollback"),
    path("bet-win", views.BetWinView.as_view(), name="bet-win"),
]
