"""The process's direct Redis client, for the calls that go to Redis directly (the CRM delivery kick's
coalescing key).

Django's cache client builds a new `redis.Redis` on every call: measured on the bench machine, a
seamless-wallet nonce check through `cache.add` cost about 0.2 ms of Python, a direct SET NX a
fraction of it. (The nonces have since moved to PostgreSQL: games.models.RequestNonce.)
"""

from __future__ import annotations

import redis
from django.conf import settings

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    """The process's client for settings.REDIS_URL (2 s connect and read time-outs). Thread-safe; its
    connection pool reconnects after a fork."""
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    return _client
