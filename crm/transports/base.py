"""What a CRM transport is: something that sends one outbox event and says whether it arrived.

The delivery loop (`crm.delivery`) owns ordering, retries and leases; a transport only moves bytes.
It is called from several threads at once, so it must be thread-safe, and each `send` must return
within `max_send_seconds` (the loop refuses to start a send its claim lease might not outlive).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class OutboundEvent:
    """One event as it leaves: `body` is the stored JSON payload, byte for byte."""

    event_id: str
    event_type: str
    player_id: int
    body: bytes


@dataclass(frozen=True)
class SendResult:
    ok: bool
    status_code: int | None = None
    error: str = ""  # for the outbox row's last_error; never logged (the receiver may echo data back)


class Transport(ABC):
    @property
    @abstractmethod
    def max_send_seconds(self) -> float:
        """The longest one `send` may take, timeouts included."""

    @abstractmethod
    def send(self, event: OutboundEvent) -> SendResult:
        """Deliver one event; never raises for a delivery failure, returns `ok=False` instead."""

    def close(self) -> None:  # noqa: B027 - optional: most transports hold nothing to release
        """Release connections (called when the settings change and in tests)."""
