from django import template

from wallet.money import money_str

register = template.Library()


@register.filter
def money(amount, currency: str) -> str:
    """`{{ payment.amount|money:payment.currency }}` -> "10.50": the currency's places, exact."""
    return "" if amount is None else money_str(amount, currency)
