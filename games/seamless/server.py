"""The wallet server: game providers' calls answered on an event loop, the fast path on its own connections.

Run by `python -m igaming.walletserver` (uvicorn with uvloop and httptools).

A provider calls the wallet for every bet and win and waits for the answer, so this is the platform's
busiest and most latency-bound door. The web server (igaming/webserver.py) answers the same API, with
threads that each hold a request from start to end, and the GIL passing between them and the uWSGI
router's extra hop cost CPU and stretch the latency's tail. Here one event loop (uvicorn with uvloop
and httptools) takes every connection, and a call's waits (Redis, PostgreSQL) cost no thread.
Interleaved paced runs on the 2-core bench machine, 550 calls per second: 0.58-0.77 ms of the web
process's CPU per call against the web server's 0.77-1.00, p95 10-22 ms against 12-80
(docs/games-speed-log.md).

A call (POST /wallet-api/v1/<operation>):
1. the signature and age are checked (`signing.signature_check`);
2. a bet, win or bet-win whose input passes (`handler.call_arguments`) runs its fast statement
   (`play.seamless_fast_call`: the same one Django's path runs) in the variant that also spends the
   request's nonce (`FastCall.spending`, games migration 0010), on one of the server's asyncpg
   connections, prepared once per connection: the nonce and the booking commit together, in one round
   trip;
3. anything else (authenticate, balance, rollback, input the fast path does not take, a call the
   statement declines: a retry, a refusal, a special case, a replay) gets the web server's own answer:
   `handler.seamless_checked_call` on a thread of a small pool, on Django's connection, which spends
   the nonce first (a declined statement left it unspent). So every rule of refusal still lives in one
   place.

Refusals found before the database (signature, age) are answered on the loop with the same bodies.
The connection of a statement that finds it dead is opened again; the call is then answered by the
full path, a nonce found spent taken for the lost statement's own: every money call is idempotent by
its ids. `GET /health` checks PostgreSQL: Redis carries only the
delivery kicks, whose loss the CRM sweep makes up.

Settings: WALLET_SERVER_DB_CONNECTIONS (connections of the fast path, default twice the machine's cores,
at most 8: `fast_path_connections`), WALLET_SERVER_THREADS (threads of the full path, default 4; each
holds a Django connection of its own too).
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import logging
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import asyncpg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from crm.delivery import delivery_kick_coalesced, delivery_kick_window
from games import exceptions as errors
from games.seamless.handler import (
    OPERATIONS,
    PREFIX,
    answer_content,
    call_arguments,
    error_answer,
    internal_error,
    seamless_checked_call,
    seamless_operation,
    too_large,
    with_connection_upkeep,
)
from games.seamless.signing import signature_check
from games.selectors import vendor_cached, vendor_for_code
from games.services.play import seamless_fast_call
from igaming.api_errors import error_body

logger = logging.getLogger(__name__)

FAST_OPERATIONS = frozenset({"bet", "win", "bet-win"})
# Django's and the app's long-lived objects are frozen out of the cyclic collector's reach once the
# server has started, and again after the first requests have built what is built lazily, as
# igaming/wsgi.py does for the web server: a full collection over them stops the event loop, and with
# it every call in progress (66-172 ms in the web server's workers before).
GC_FREEZE_AGAIN_AFTER_REQUESTS = 1000
FAST_PATH_CONNECTIONS_MOST = 8


def fast_path_connections(configured: int | None) -> int:
    """How many statements the fast path keeps in flight: WALLET_SERVER_DB_CONNECTIONS, else twice the
    machine's cores (PostgreSQL's rule of thumb for a pool), at most 8, the default before, which keeps
    larger machines as measured and within `max_connections`. More only queue inside PostgreSQL, mostly
    for the WAL's write lock at commit, and each queued backend costs a wake-up (measured:
    docs/games-speed-log.md, "Fewer statements in flight"). Set it to twice the database server's cores
    where that is another machine."""
    if configured:
        return configured
    return min(2 * (os.cpu_count() or 1), FAST_PATH_CONNECTIONS_MOST)


class Database:
    """The fast path's own PostgreSQL connections; each runs one statement at a time. The connection
    freed last is taken first: below full load the same few stay busy and warm (a connection compiles
    the SQL functions on its first call, 10-20 ms), the rest idle."""

    def __init__(self, size: int):
        self.size = size
        self._free: asyncio.LifoQueue[asyncpg.Connection] = asyncio.LifoQueue()

    @staticmethod
    async def connect() -> asyncpg.Connection:
        # The parameters Django hands psycopg2 (the URL's host, also a socket directory given as ?host=).
        params = connections[DEFAULT_DB_ALIAS].get_connection_params()
        return await asyncpg.connect(
            host=params.get("host") or None, port=int(params["port"]) if params.get("port") else None,
            user=params.get("user"), password=params.get("password"), database=params["dbname"],
            ssl=params.get("sslmode"), timeout=5,
            server_settings={"application_name": "igaming-wallet-server", "TimeZone": "UTC"})

    async def open(self) -> None:
        for _ in range(self.size):
            self._free.put_nowait(await self.connect())

    async def close(self) -> None:
        while not self._free.empty():
            await self._free.get_nowait().close()

    async def fetchval(self, sql: str, values: Sequence, *, run_again: bool = True):
        """The statement's one value. A dead connection is replaced, and the statement run once more; or,
        with run_again False, StatementLost raised."""
        connection = await self._free.get()
        try:
            try:
                return await connection.fetchval(sql, *values)
            except Exception as error:
                if not _connection_broken(connection, error):
                    raise
            connection.terminate()
            connection = await self.connect()
            if not run_again:
                raise StatementLost()
            return await connection.fetchval(sql, *values)
        finally:
            self._free.put_nowait(connection)


class StatementLost(Exception):
    """The connection died while a statement ran: it may have committed or not."""


def _connection_broken(connection: asyncpg.Connection, error: Exception) -> bool:
    """Whether a statement failed for its connection rather than for itself: the connection is closed, the
    error came from the client's side (the protocol, the socket), or the server ended the session (class
    08, or 57P: it may say so before the connection closes)."""
    if connection.is_closed() or not isinstance(error, asyncpg.PostgresError):
        return True
    return str(error.sqlstate).startswith(("08", "57P"))


class WalletServer:
    """The ASGI application."""

    def __init__(self, *, access_log: bool = True):
        self.access_log = access_log
        self.database = Database(fast_path_connections(settings.WALLET_SERVER_DB_CONNECTIONS))
        self.threads = ThreadPoolExecutor(max_workers=settings.WALLET_SERVER_THREADS,
                                          thread_name_prefix="wallet-full-path")
        self._kick_window: int | None = None
        self._requests = itertools.count(1)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if next(self._requests) == GC_FREEZE_AGAIN_AFTER_REQUESTS:
            gc.freeze()
        started = time.monotonic()
        try:
            status, body = await self._respond(scope, receive)
        except Exception:  # what a server would answer with a bare 500, with the API's error body
            status, body = internal_error(scope["path"].rsplit("/", 1)[-1], logger)
        content, headers = answer_content(body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(name.encode(), value.encode()) for name, value in headers]})
        await send({"type": "http.response.body", "body": content})
        if self.access_log:
            # Method, path, status, size and time: no query string or client address (no personal data).
            logger.info('"%s %s" %d %d %dms', scope["method"], scope["path"], status, len(content),
                        (time.monotonic() - started) * 1000)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.database.open()
                except Exception as error:  # noqa: BLE001 - reported to uvicorn, which stops
                    await send({"type": "lifespan.startup.failed", "message": f"{type(error).__name__}: {error}"})
                    return
                gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.database.close()
                self.threads.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _respond(self, scope, receive) -> tuple[int, dict]:
        method, path = scope["method"], scope["path"]
        if path == "/health":
            return await self._health()
        operation = seamless_operation(method, path)
        if operation is None:
            if path.startswith(PREFIX) and path[len(PREFIX):] in OPERATIONS:
                return 405, error_body("Use POST.", "method_not_allowed")
            return 404, error_body("Not found.", "not_found")
        body = await _body(receive, _content_length(scope))
        if body is None:
            return too_large()
        return await self._call(operation, _Headers(scope["headers"]), body)

    async def _call(self, operation: str, headers: _Headers, body: bytes) -> tuple[int, dict]:
        try:
            signed = signature_check(headers=headers, body=body)
        except errors.GamesError as error:
            return error_answer(error)
        try:
            cached, vendor = vendor_cached(signed.vendor_code)
            if not cached:
                vendor = await self._in_thread(vendor_for_code, signed.vendor_code)
            if vendor is not None and operation in FAST_OPERATIONS:
                call = seamless_fast_call(operation, vendor=vendor, **call_arguments(operation, body))
                try:
                    result = None if call is None else await self._fast(call.spending(signed.nonce))
                except StatementLost:
                    # It may have committed, with its nonce: the call is answered again as a retry (a money
                    # call is idempotent by its ids), a nonce found spent taken for its own.
                    return await self._in_thread(seamless_checked_call, operation, signed=signed, body=body,
                                                 maybe_spent=True)
                if result is not None:
                    return 200, call.finish(result)
        except errors.GamesError:
            pass  # input refused: the full path spends the nonce first, then refuses it the same way
        # Everything else, as the web server answers it.
        return await self._in_thread(seamless_checked_call, operation, signed=signed, body=body)

    async def _fast(self, call) -> dict | None:
        """The fast statement's answer, or None: the full path answers (declined, a race lost on a unique
        key, the nonce spent before, or any other database error, which the full path meets and reports
        itself). Raises StatementLost."""
        try:
            result = await self.database.fetchval(call.statement.numbered_sql, call.statement.values(call.params),
                                                  run_again=False)
        except StatementLost:
            raise
        except Exception as error:  # noqa: BLE001 - the full path answers whatever happened here
            if getattr(error, "sqlstate", None) not in ("GF001", "23505"):
                logger.warning("wallet server: the fast statement failed (%s); the full path answers",
                               type(error).__name__)
            return None
        if result is None:
            return None
        window = delivery_kick_window()
        if window is not None and window != self._kick_window:
            # Published on a thread: the kick's Celery publish blocks for 0.5-1.5 ms.
            self._kick_window = window
            asyncio.get_running_loop().run_in_executor(self.threads, delivery_kick_coalesced)
        return json.loads(result)

    async def _in_thread(self, function, /, *args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(
            self.threads, lambda: with_connection_upkeep(function, *args, **kwargs))

    async def _health(self) -> tuple[int, dict]:
        try:
            await self.database.fetchval("SELECT 1", ())
        except Exception:  # noqa: BLE001 - any failure means not ready
            return 503, {"status": "degraded", "database": "down"}
        return 200, {"status": "ok", "database": "ok"}


class _Headers:
    """Request headers as `signature_check` reads them: `get(name, default)`, any case."""

    __slots__ = ("_headers",)

    def __init__(self, raw: list[tuple[bytes, bytes]]):
        self._headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in raw}

    def get(self, name: str, default: str = "") -> str:
        return self._headers.get(name.lower(), default)


def _content_length(scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _body(receive, declared: int | None) -> bytes | None:
    """The request body, or None when it is over DATA_UPLOAD_MAX_MEMORY_SIZE (declared or as it arrives)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and declared is not None and declared > limit:
        return None
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)
