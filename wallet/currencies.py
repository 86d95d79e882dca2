"""Currencies the platform accepts, with their minor units (decimal places).

ISO 4217 codes, plus BTC, which has no ISO code but is widely offered (8 places, satoshi).
"""

from decimal import Decimal

MINOR_UNITS: dict[str, int] = {
    "EUR": 2, "USD": 2, "GBP": 2, "SEK": 2, "NOK": 2, "DKK": 2, "CHF": 2, "CAD": 2, "AUD": 2,
    "NZD": 2, "PLN": 2, "CZK": 2, "HUF": 2, "RON": 2, "BRL": 2, "MXN": 2, "INR": 2, "ZAR": 2,
    "TRY": 2, "JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "KWD": 3, "BHD": 3, "BTC": 8,
}


def is_supported(code: str) -> bool:
    return code in MINOR_UNITS


def minor_units(code: str) -> int:
    return MINOR_UNITS[code]


def quantum(code: str) -> Decimal:
    """The smallest amount in `code`: Decimal('0.01') for EUR, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS[code])


# Rates to the base currency (base amount = amount x rate) that Fast Track events carry as
# `exchange_rate`. A fixed snapshot for development; a deployment sets WALLET_EXCHANGE_RATES
# (JSON object, e.g. {"SEK": "0.087"}) from its rates provider. Kept as strings: exact decimals.
DEFAULT_RATES_TO_EUR: dict[str, str] = {
    "EUR": "1", "USD": "0.92", "GBP": "1.17", "SEK": "0.087", "NOK": "0.086", "DKK": "0.134", "CHF": "1.04",
    "CAD": "0.68", "AUD": "0.61", "NZD": "0.56", "PLN": "0.23", "CZK": "0.040", "HUF": "0.0025", "RON": "0.20",
    "BRL": "0.17", "MXN": "0.051", "INR": "0.011", "ZAR": "0.050", "TRY": "0.027", "JPY": "0.0061",
    "KRW": "0.00068", "CLP": "0.00098", "ISK": "0.0066", "KWD": "3.00", "BHD": "2.44", "BTC": "60000",
}


def exchange_rate(code: str) -> Decimal:
    """The rate from `code` to the base currency (settings.WALLET_BASE_CURRENCY)."""
    from django.conf import settings

    if code == getattr(settings, "WALLET_BASE_CURRENCY", "EUR"):
        return Decimal(1)
    configured = getattr(settings, "WALLET_EXCHANGE_RATES", {})
    return Decimal(str(configured[code] if code in configured else DEFAULT_RATES_TO_EUR[code]))
