from django.urls import path

from wallet import site

urlpatterns = [
    path("cashier", site.cashier, name="cashier"),
    path("cashier/deposit", site.deposit, name="cashier-deposit"),
    path("cashier/withdraw", site.withdraw, name="cashier-withdraw"),
    path("cashier/withdrawals/<int:payment_id>/cancel", site.withdrawal_cancel, name="cashier-withdrawal-cancel"),
    path("cashier/return", site.deposit_return, name="cashier-return"),
]
