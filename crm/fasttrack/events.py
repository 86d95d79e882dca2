"""Fast Track real-time event bodies: the one place that knows their shape.

Each builder returns the JSON body of one event type as Fast Track publishes it. Common to all:
`user_id` (a string of digits), `timestamp` (RFC 3339 UTC) and `origin` (the brand's domain).
User events are slim (Fast Track calls the Operator API back for the details); transactional
events carry their full payload, passed in as `data` by the service that causes them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from crm.models import EventType


def rfc3339(moment: datetime) -> str:
    """UTC with milliseconds and a Z: 2026-11-21T13:15:30.123Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _common(player, at: datetime) -> dict:
    return {"user_id": str(player.pk), "timestamp": rfc3339(at), "origin": player.origin.strip()}


# Optional keys each user event may carry; anything else in `data` is a programming error.
_USER_EVENT_OPTIONAL_KEYS = {
    EventType.USER_CREATE: {"note", "user_agent", "ip_address"},
    EventType.LOGIN: {"ip_address", "user_agent", "is_impersonated"},
    EventType.USER_UPDATE: set(),
    EventType.USER_BLOCK: set(),
    EventType.USER_CONSENTS: set(),
}


def build_payload(event_type: str, *, player, at: datetime, data: dict | None = None) -> dict:
    data = {key: value for key, value in (data or {}).items() if value not in (None, "")}
    body = _common(player, at)
    allowed = _USER_EVENT_OPTIONAL_KEYS.get(event_type)
    if allowed is not None:
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"{event_type} does not carry {sorted(unknown)}")
    missing = _TRANSACTIONAL_REQUIRED_KEYS.get(event_type, set()) - set(data)
    if missing:
        raise ValueError(f"{event_type} needs {sorted(missing)}")
    body.update(data)
    return body


# Keys a transactional event must carry beyond user_id, timestamp and origin (the published schemas).
_TRANSACTIONAL_REQUIRED_KEYS = {
    EventType.PAYMENT: {"amount", "currency", "payment_id", "status", "type", "vendor_id"},
    EventType.USER_BALANCES_UPDATE: {"balances"},
    EventType.CASINO: {"activity_id", "amount", "currency", "exchange_rate", "game_id", "game_name", "is_round_end",
                       "round_id", "status", "type", "vendor_id"},
    EventType.CUSTOM: {"notification_type", "data"},
}

# Fast Track's payment types: money in is a Credit, money out a Debit.
PAYMENT_TYPE_DEPOSIT = "Credit"
PAYMENT_TYPE_WITHDRAWAL = "Debit"


def payment_data(*, payment_id, amount: Decimal, currency: str, status: str, payment_type: str, vendor_id: str,
                 vendor_name: str, exchange_rate: Decimal, fee_amount: Decimal = Decimal(0), note: str = "") -> dict:
    """The `data` of a PAYMENT event: one per status change; a Rollback reuses the payment_id.

    Amounts stay Decimal: the outbox payload field writes them as exact JSON numbers.
    """
    return {
        "payment_id": str(payment_id), "amount": amount, "currency": currency, "status": status,
        "type": payment_type, "vendor_id": vendor_id, "vendor_name": vendor_name,
        "exchange_rate": exchange_rate, "fee_amount": fee_amount, "note": note,
    }


def balances_data(*, currency: str, real_money: Decimal, bonus_money: Decimal, exchange_rate: Decimal) -> dict:
    """The `data` of a USER_BALANCES_UPDATE event: the player's real and bonus money after a change."""
    return {"balances": [
        {"amount": real_money, "currency": currency, "key": "real_money", "exchange_rate": exchange_rate},
        {"amount": bonus_money, "currency": currency, "key": "bonus_money", "exchange_rate": exchange_rate},
    ]}


# Fast Track's casino event types and statuses: a refunded bet is its Bet event again with Rollback.
CASINO_BET = "Bet"
CASINO_WIN = "Win"
CASINO_APPROVED = "Approved"
CASINO_ROLLBACK = "Rollback"


def casino_data(*, activity_id: str, round_id: str, casino_type: str, status: str, amount: Decimal,
                real_amount: Decimal, bonus_amount: Decimal, currency: str, exchange_rate: Decimal, game_id: str,
                game_name: str, game_type: str, vendor_id: str, vendor_name: str, is_round_end: bool,
                balance_before: Decimal, balance_after: Decimal, meta: dict | None = None) -> dict:
    """The `data` of a CASINO event: one per bet and win (a losing round closes with a Win of 0).

    `amount` = wager_amount (real money) + bonus_wager_amount (bonus money); nothing is locked money
    here. Bet and Win of a round share `round_id`; `activity_id` names the bet or win.
    """
    if amount != real_amount + bonus_amount:
        raise ValueError("a casino amount is its real part plus its bonus part")
    return {
        "activity_id": activity_id, "round_id": round_id, "type": casino_type, "status": status,
        "amount": amount, "wager_amount": real_amount, "bonus_wager_amount": bonus_amount,
        "locked_wager_amount": Decimal(0), "currency": currency, "exchange_rate": exchange_rate,
        "game_id": game_id, "game_name": game_name, "game_type": game_type, "vendor_id": vendor_id,
        "vendor_name": vendor_name, "is_round_end": is_round_end, "balance_before": balance_before,
        "balance_after": balance_after, "meta": meta,
    }


def custom_data(*, notification_type: str, data: dict) -> dict:
    """The `data` of a CUSTOM event (`/v1/integration/custom`), e.g. game_session_started."""
    if not notification_type:
        raise ValueError("a custom event needs a notification_type")
    return {"notification_type": notification_type, "data": data}
