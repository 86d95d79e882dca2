"""Amounts as the wallet accepts them: exact Decimals in the currency's minor units, never floats.

Every entry point (API, site, admin, PSP webhooks, other apps) runs its amounts through
`money_parse`, so the rules are the same everywhere: a number (a Decimal, an int, or a string of
plain decimal digits), finite, above zero, no finer than the currency's minor unit, and below a
sanity ceiling (`MAX_DIGITS` digits in total, so 9,999,999,999.99 EUR, 999,999,999,999 JPY or
9,999.99999999 BTC). Floats are refused: they cannot hold most decimal amounts exactly.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from wallet import currencies
from wallet.exceptions import WalletInputInvalid

MAX_DIGITS = 12
_PLAIN_NUMBER = re.compile(r"[0-9]{1,40}(\.[0-9]{1,40})?")


def max_amount(currency: str) -> Decimal:
    """The ceiling, exclusive: 10 ** (MAX_DIGITS - minor units) in the currency."""
    return Decimal(10) ** (MAX_DIGITS - currencies.minor_units(currency))


def currency_check(currency, *, expected: str | None = None, field: str = "currency") -> str:
    """A supported currency code, and the player's when `expected` is given."""
    if not isinstance(currency, str) or not currencies.is_supported(currency):
        raise WalletInputInvalid(fields={field: ["Use a supported ISO 4217 currency code."]})
    if expected is not None and currency != expected:
        raise WalletInputInvalid(fields={field: [f"This account holds {expected}; use {expected}."]})
    return currency


def money_parse(value, currency: str, *, field: str = "amount") -> Decimal:
    """The exact amount `value` stands for, quantized to the currency's places; else WalletInputInvalid."""
    def refuse(message: str):
        return WalletInputInvalid(fields={field: [message]})

    if isinstance(value, bool | float):
        raise refuse("Send the amount as a string or a JSON number, e.g. \"10.50\".")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
        amount = Decimal(value.strip())
    else:
        raise refuse("Enter a number, e.g. \"10.50\".")
    if not amount.is_finite():
        raise refuse("Enter a finite number.")
    if amount <= 0:
        raise refuse("Enter an amount above zero.")
    if amount >= max_amount(currency):
        raise refuse(f"The amount must be below {max_amount(currency):f} {currency}.")
    quantum = currencies.quantum(currency)
    try:
        exact = amount.quantize(quantum)
    except InvalidOperation:
        raise refuse("Enter a smaller number.") from None
    if exact != amount:
        places = currencies.minor_units(currency)
        raise refuse(f"{currency} amounts have at most {places} decimal place{'s' if places != 1 else ''}.")
    return exact


def money_str(amount: Decimal, currency: str) -> str:
    """The amount with exactly the currency's places, as the player API and screens show it."""
    return f"{Decimal(amount).quantize(currencies.quantum(currency)):f}"
