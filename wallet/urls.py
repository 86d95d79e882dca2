from django.urls import path

from wallet import api

app_name = "wallet-api"

urlpatterns = [
    path("balance", api.BalanceView.as_view(), name="balance"),
    path("deposits", api.DepositsView.as_view(), name="deposits"),
    path("deposits/<int:payment_id>", api.DepositDetailView.as_view(), name="deposit"),
    path("withdrawals", api.WithdrawalsView.as_view(), name="withdrawals"),
    path("withdrawals/<int:payment_id>", api.WithdrawalDetailView.as_view(), name="withdrawal"),
    path("withdrawals/<int:payment_id>/cancel", api.WithdrawalCancelView.as_view(), name="withdrawal-cancel"),
    path("transactions", api.TransactionsView.as_view(), name="transactions"),
]
