"""Direct Redis clients for the calls on hot paths that go to Redis directly.

Django's cache client builds a new `redis.Redis` on every call: measured on the bench machine, a
seamless-wallet nonce check through `cache.add` cost about 0.2 ms of Python, a direct SET NX a
fraction of it, and a provider's every call makes one.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading

import hiredis
import redis
from django.conf import settings
from redis.connection import SSLConnection, parse_url
from redis.exceptions import RedisError

_client: redis.Redis | None = None
_per_thread = threading.local()


def _new_client(**options) -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2, **options)


def redis_client() -> redis.Redis:
    """The process's client for settings.REDIS_URL (2 s connect and read time-outs). Thread-safe; its
    connection pool reconnects after a fork."""
    global _client
    if _client is None:
        _client = _new_client()
    return _client


def redis_thread_client() -> redis.Redis:
    """This thread's own client, holding one connection: no pool to take it from and give it back to on
    every call (about a third of a SET's Python, measured). For a call made on every request."""
    client = getattr(_per_thread, "client", None)
    if client is None or _per_thread.pid != os.getpid():
        client = _per_thread.client = _new_client(single_connection_client=True)
        _per_thread.pid = os.getpid()
    return client


class PipelinedRedis:
    """One asyncio connection to settings.REDIS_URL on which commands are sent as they come and replies
    matched to them in order (Redis answers a connection's commands in order). hiredis packs and parses.

    For an event loop's call made on every request: redis-py's asyncio client spent 140 us of CPU per
    SET on the bench machine (taking a connection from its pool and giving it back, its connection
    objects), this 52. A reply that does not come within `timeout` seconds, or a lost connection, fails
    the commands waiting on it (RedisError) and the next command connects again.
    """

    def __init__(self, url: str, *, timeout: float = 2.0):
        self.options = parse_url(url)
        self.timeout = timeout
        self._protocol: _RedisProtocol | None = None
        self._connecting = asyncio.Lock()

    async def execute_command(self, *args):
        protocol = self._protocol if self._protocol is not None and self._protocol.open else await self._connect()
        try:
            async with asyncio.timeout(self.timeout):
                reply = await protocol.send(args)
        except TimeoutError:
            protocol.close()  # a late reply would be matched to the next command
            raise RedisError("Redis did not answer in time") from None
        if isinstance(reply, hiredis.ReplyError):
            raise RedisError(str(reply))
        return reply

    async def ping(self) -> bool:
        return await self.execute_command("PING") == b"PONG"

    async def aclose(self) -> None:
        if self._protocol is not None:
            self._protocol.close()

    async def _connect(self) -> _RedisProtocol:
        async with self._connecting:
            if self._protocol is not None and self._protocol.open:
                return self._protocol
            loop, options = asyncio.get_running_loop(), self.options
            try:
                async with asyncio.timeout(self.timeout):
                    if "path" in options:
                        _, protocol = await loop.create_unix_connection(_RedisProtocol, options["path"])
                    else:
                        tls = options.get("connection_class") is SSLConnection
                        _, protocol = await loop.create_connection(_RedisProtocol, options["host"],
                                                                   options.get("port", 6379), ssl=tls or None)
                    setup = [("SELECT", options.get("db", 0))]
                    if options.get("password"):
                        setup.insert(0, ("AUTH", *filter(None, (options.get("username"), options["password"]))))
                    for command in setup:
                        if isinstance(await protocol.send(command), hiredis.ReplyError):
                            protocol.close()
                            raise RedisError(f"Redis refused {command[0]}")
            except (OSError, TimeoutError) as error:
                raise RedisError(f"cannot connect to Redis: {type(error).__name__}") from None
            self._protocol = protocol
            return protocol


class _RedisProtocol(asyncio.Protocol):
    def __init__(self):
        self.reader = hiredis.Reader()
        self.waiting: collections.deque[asyncio.Future] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.open = False

    def connection_made(self, transport) -> None:
        self.transport, self.open = transport, True

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(reply)

    def connection_lost(self, error) -> None:
        self.open = False
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(RedisError("the connection to Redis was lost"))

    def send(self, args) -> asyncio.Future:
        if not self.open:
            raise RedisError("the connection to Redis is closed")
        waiter = asyncio.get_running_loop().create_future()
        self.waiting.append(waiter)
        self.transport.write(hiredis.pack_command(args))
        return waiter

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()
