"""CRM transports, chosen by `settings.CRM_TRANSPORT`: "rest" (Fast Track's REST intake) or a dotted path.

A message-bus transport (RabbitMQ with the event name in the AMQP `type` property, Kafka with a `type`
header) is one more `Transport` subclass registered here; domain code and the outbox do not change.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings
from django.utils.module_loading import import_string

from crm.transports.base import OutboundEvent, SendResult, Transport

TRANSPORTS = {
    "rest": "crm.transports.rest.RestTransport",
}

_lock = threading.Lock()
_cached: dict[tuple, Transport] = {}

__all__ = ["OutboundEvent", "SendResult", "Transport", "transport_get"]


def transport_get() -> Transport:
    """This process's transport for the current settings (built once; a forked worker builds its own)."""
    name = settings.CRM_TRANSPORT
    key = (os.getpid(), name, settings.FASTTRACK_BASE_URL, settings.FASTTRACK_API_KEY_HEADER,
           settings.FASTTRACK_API_KEY, settings.FASTTRACK_CONNECT_TIMEOUT, settings.FASTTRACK_READ_TIMEOUT)
    transport = _cached.get(key)
    if transport is None:
        with _lock:
            transport = _cached.get(key)
            if transport is None:
                for old_key, old in list(_cached.items()):
                    if old_key[0] == os.getpid():  # a parent's connections are not ours to close
                        old.close()
                _cached.clear()
                transport = import_string(TRANSPORTS.get(name, name))()
                _cached[key] = transport
    return transport
