"""Where each Fast Track real-time event goes over REST: the one table to edit for a new event type.

From Fast Track's integration contract (docs/crm-delivery.md lists it). A new event type needs one
`EventType` value, its payload builder in `crm.fasttrack.events` and one line here; a message-bus
transport (RabbitMQ, Kafka) does not use this table: it sends the type name as the message `type`.
"""

from __future__ import annotations

from typing import NamedTuple

from crm.models import EventType


class Route(NamedTuple):
    method: str
    path: str


ROUTES: dict[str, Route] = {
    EventType.USER_CREATE: Route("POST", "/v2/integration/user"),
    EventType.LOGIN: Route("POST", "/v2/integration/login"),
    EventType.USER_UPDATE: Route("PUT", "/v2/integration/user"),
    EventType.USER_BLOCK: Route("PUT", "/v2/integration/user/blocks"),
    EventType.USER_CONSENTS: Route("PUT", "/v2/integration/user/consents"),
    EventType.PAYMENT: Route("POST", "/v1/integration/payment"),
    EventType.CASINO: Route("POST", "/v1/integration/casino"),
    EventType.BONUS: Route("POST", "/v1/integration/bonus"),
    EventType.USER_BALANCES_UPDATE: Route("POST", "/v1/integration/user/balances"),
    EventType.CUSTOM: Route("POST", "/v1/integration/custom"),
}


def route_for(event_type: str) -> Route:
    """The REST route of an event type; KeyError for a type nobody mapped (caught by a test)."""
    return ROUTES[event_type]
