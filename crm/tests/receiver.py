"""A real HTTP server standing in for Fast Track's event endpoint, for tests and the benchmark.

It speaks enough HTTP/1.1 (keep-alive, Content-Length bodies) for the delivery workers, records every
request it is sent (event id, player, method, path, arrival time) and checks, as it goes, that no
event and no player ever has two requests in flight at once. A test may set `behaviour` to answer
with another status or to hold a request before answering.

Run it in a thread (`Receiver().start()`) or, for the benchmark, as its own process:
`python -m crm.tests.receiver` prints the port and serves `GET /_arrivals` (a JSON list of
`[event_id, user_id, arrived_at]`) and `POST /_reset` until it is terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Arrival:
    event_id: str
    user_id: str
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived_at: float


@dataclass
class Reply:
    status: int = 200
    delay: float = 0.0


@dataclass
class Receiver:
    """`behaviour(arrival) -> Reply` decides each answer; the default accepts everything at once."""

    port: int = 0
    behaviour: Callable[[Arrival], Reply] | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)  # event or player ids seen twice in flight at once
    record_bodies: bool = True

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight_events: set[str] = set()
        self._in_flight_players: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    # --- life cycle -------------------------------------------------------------------------------
    def start(self) -> Receiver:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name="receiver", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("receiver did not start")
        return self

    def stop(self) -> None:
        """Close the listening socket and every open connection: the port then refuses connections."""
        if self._loop is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        with contextlib.suppress(Exception):
            future.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True, backlog=1024))
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        for writer in list(self._connections):
            writer.close()
        await self._server.wait_closed()

    # --- what was received --------------------------------------------------------------------------
    def event_ids(self) -> list[str]:
        with self._lock:
            return [arrival.event_id for arrival in self.arrivals]

    def wait_for(self, condition: Callable[[Receiver], bool], timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if condition(self):
                    return True
            time.sleep(0.02)
        return False

    # --- HTTP ---------------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                method, path, _ = request_line.split(" ", 2)
                headers = {}
                for line in header_lines:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if path == "/_arrivals":
                    await self._answer(writer, 200, self._arrivals_json())
                    continue
                if path == "/_reset":
                    with self._lock:
                        self.arrivals.clear()
                        self.overlaps.clear()
                    await self._answer(writer, 200, b"{}")
                    continue
                await self._handle(writer, method, path, headers, body)
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:  # the receiver is stopping: end quietly
            pass
        finally:
            self._connections.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def _handle(self, writer, method: str, path: str, headers: dict, body: bytes) -> None:
        event_id = headers.get("x-event-id", "")
        try:
            user_id = str(json.loads(body).get("user_id", ""))
        except (ValueError, AttributeError):
            user_id = ""
        arrival = Arrival(event_id, user_id, method, path, headers if self.record_bodies else {},
                          body if self.record_bodies else b"", time.time())
        player_key = f"player:{user_id}"
        with self._lock:
            self.arrivals.append(arrival)
            for key, in_flight in ((event_id, self._in_flight_events), (player_key, self._in_flight_players)):
                if key in in_flight:
                    self.overlaps.append(key)
                in_flight.add(key)
        try:
            reply = self.behaviour(arrival) if self.behaviour else Reply()
            if reply.delay:
                await asyncio.sleep(reply.delay)
            await self._answer(writer, reply.status, b"{}")
        finally:
            with self._lock:
                self._in_flight_events.discard(event_id)
                self._in_flight_players.discard(player_key)

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
        writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                     % (status, len(body), body))
        await writer.drain()

    def _arrivals_json(self) -> bytes:
        with self._lock:
            rows = [[arrival.event_id, arrival.user_id, arrival.arrived_at] for arrival in self.arrivals]
            overlaps = list(self.overlaps)
        return json.dumps({"arrivals": rows, "overlaps": overlaps}).encode()


def main() -> None:
    receiver = Receiver(record_bodies=False).start()
    print(receiver.port, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main())
