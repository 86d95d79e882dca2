"""The cashier pages of the player site, on the same services as the API."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from igaming.errors import DomainError
from players.site import player_required, show_domain_error
from wallet import psp, selectors
from wallet.forms import CashierForm
from wallet.models import PaymentKind, PaymentStatus
from wallet.money import money_str
from wallet.services import payments

RETURN_MESSAGES = {
    PaymentStatus.APPROVED: (messages.SUCCESS, "Your deposit of {amount} is in your balance."),
    PaymentStatus.REQUESTED: (messages.INFO, "We are waiting for the payment provider to confirm your deposit of "
                                             "{amount}. It shows here as soon as it does."),
    PaymentStatus.REJECTED: (messages.ERROR, "Your deposit of {amount} was declined by the payment provider."),
    PaymentStatus.CANCELLED: (messages.WARNING, "Your deposit of {amount} was cancelled."),
    PaymentStatus.ROLLBACK: (messages.WARNING, "Your deposit of {amount} was reversed."),
}


def _page(request, deposit_form=None, withdrawal_form=None, status=200):
    player = request.player
    return render(request, "site/cashier.html", {
        "balance": selectors.wallet_balance(player),
        "deposit_form": deposit_form or CashierForm(prefix="deposit"),
        "withdrawal_form": withdrawal_form or CashierForm(prefix="withdrawal"),
        "deposits": selectors.player_payments(player, PaymentKind.DEPOSIT)[:10],
        "withdrawals": selectors.player_payments(player, PaymentKind.WITHDRAWAL)[:10],
        "transactions": selectors.player_transactions(player)[:20],
        "currency": player.currency,
    }, status=status)


@player_required
@require_http_methods(["GET"])
def cashier(request):
    return _page(request)


@player_required
@require_POST
def deposit(request):
    form = CashierForm(request.POST, prefix="deposit")
    if form.is_valid():
        try:
            result = payments.deposit_request(player=request.player, amount=form.cleaned_data["amount"],
                                              currency=request.player.currency,
                                              external_id=form.cleaned_data["idempotency_key"])
        except DomainError as error:
            show_domain_error(form, error)
        else:
            if result.payment.status == PaymentStatus.REQUESTED:
                return redirect(psp.checkout_url(result.payment))
            messages.info(request, "This deposit was already made.")
            return redirect("/cashier")
    return _page(request, deposit_form=form, status=400)


@player_required
@require_POST
def withdraw(request):
    form = CashierForm(request.POST, prefix="withdrawal")
    if form.is_valid():
        try:
            result = payments.withdrawal_request(player=request.player, amount=form.cleaned_data["amount"],
                                                 currency=request.player.currency,
                                                 external_id=form.cleaned_data["idempotency_key"])
        except DomainError as error:
            show_domain_error(form, error)
        else:
            payment = result.payment
            messages.success(request, f"Your withdrawal of {money_str(payment.amount, payment.currency)} "
                                      f"{payment.currency} is requested. We hold the money until it is approved.")
            return redirect("/cashier")
    return _page(request, withdrawal_form=form, status=400)


@player_required
@require_POST
def withdrawal_cancel(request, payment_id: int):
    try:
        payments.withdrawal_cancel(player=request.player, payment_id=payment_id)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Your withdrawal is cancelled; the money is back in your balance.")
    return redirect("/cashier")


@player_required
@require_GET
def deposit_return(request):
    """Where the PSP's page sends the player back. The webhook has usually arrived already."""
    payment_id = request.GET.get("payment", "")
    payment = None
    if payment_id.isdigit() and len(payment_id) <= 18:
        payment = selectors.player_payments(request.player, PaymentKind.DEPOSIT).filter(pk=int(payment_id)).first()
    if payment is not None:
        level, text = RETURN_MESSAGES[payment.status]
        messages.add_message(request, level, text.format(
            amount=f"{money_str(payment.amount, payment.currency)} {payment.currency}"))
    return redirect("/cashier")
