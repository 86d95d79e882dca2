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
