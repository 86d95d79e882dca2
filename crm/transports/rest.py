"""Fast Track's REST intake: one HTTP request per event, method and path from `crm.fasttrack.routes`.

Keep-alive connections come from one thread-safe urllib3 pool per process (no `requests`: at a
thousand events a second its per-call overhead is a third of a CPU). Every request carries the API key
header and `X-Event-Id`, the outbox row's stable UUID, so Fast Track can drop the duplicates
at-least-once delivery may produce.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import urllib3
from django.conf import settings

from crm.fasttrack.routes import route_for
from crm.transports.base import OutboundEvent, SendResult, Transport

ERROR_BODY_CHARS = 300


class RestTransport(Transport):
    def __init__(self, *, base_url: str | None = None, api_key: str | None = None, api_key_header: str | None = None,
                 connect_timeout: float | None = None, read_timeout: float | None = None,
                 max_connections: int | None = None):
        base_url = base_url or settings.FASTTRACK_BASE_URL
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"FASTTRACK_BASE_URL must be an http(s) URL, got {base_url!r}")
        self._prefix = parts.path.rstrip("/")
        self._connect_timeout = connect_timeout or settings.FASTTRACK_CONNECT_TIMEOUT
        self._read_timeout = read_timeout or settings.FASTTRACK_READ_TIMEOUT
        self._pool = urllib3.connection_from_url(
            base_url,
            maxsize=max_connections or settings.CRM_DELIVERY_THREADS,
            block=True,  # never more connections than sending threads
            retries=False,  # retries are the outbox's business, with its schedule
            timeout=urllib3.Timeout(connect=self._connect_timeout, read=self._read_timeout),
        )
        self._headers = {"Content-Type": "application/json"}
        key = settings.FASTTRACK_API_KEY if api_key is None else api_key
        if key:
            self._headers[api_key_header or settings.FASTTRACK_API_KEY_HEADER] = key

    @property
    def max_send_seconds(self) -> float:
        # The pool may make the caller wait for a free connection for up to one more connect timeout.
        return 2 * self._connect_timeout + self._read_timeout

    def send(self, event: OutboundEvent) -> SendResult:
        route = route_for(event.event_type)
        headers = {**self._headers, "X-Event-Id": event.event_id, "X-Event-Type": event.event_type}
        try:
            response = self._pool.urlopen(route.method, self._prefix + route.path, body=event.body,
                                          headers=headers, pool_timeout=self._connect_timeout,
                                          redirect=False, assert_same_host=False)
        except urllib3.exceptions.NewConnectionError as error:  # before TimeoutError: urllib3 2 subclasses it
            return SendResult(ok=False, error=f"connection failed: {type(error).__name__}")
        except urllib3.exceptions.TimeoutError as error:
            return SendResult(ok=False, error=f"timeout: {type(error).__name__}")
        except urllib3.exceptions.EmptyPoolError:
            return SendResult(ok=False, error="timeout: no free connection")
        except (urllib3.exceptions.HTTPError, OSError) as error:
            return SendResult(ok=False, error=f"connection failed: {type(error).__name__}")
        if 200 <= response.status < 300:
            return SendResult(ok=True, status_code=response.status)
        text = response.data[:ERROR_BODY_CHARS].decode("utf-8", "replace")
        return SendResult(ok=False, status_code=response.status, error=f"HTTP {response.status}: {text}")

    def close(self) -> None:
        self._pool.close()
