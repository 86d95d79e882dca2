"""Fixtures of the CRM delivery tests: a real HTTP receiver, a private Celery queue, real worker processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from crm.tests.receiver import Receiver
from igaming import engines

BASE_DIR = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def crm_queue(settings) -> Iterator[str]:
    """A Celery queue of this test's own: kicks go there, and nobody else's worker takes them."""
    name = f"crm-test-{uuid.uuid4().hex[:10]}"
    settings.CRM_DELIVERY_QUEUE = name
    yield name
    redis.Redis.from_url(settings.REDIS_URL).delete(name)


def queued_kicks(queue: str) -> int:
    return redis.Redis.from_url(django_settings.REDIS_URL).llen(queue)


@pytest.fixture
def fasttrack(settings, receiver, crm_queue) -> Receiver:
    """In-process delivery pointed at the receiver, with short timeouts."""
    settings.FASTTRACK_BASE_URL = receiver.url
    settings.FASTTRACK_API_KEY = "test-api-key"
    settings.FASTTRACK_API_KEY_HEADER = "X-API-Key"
    settings.FASTTRACK_CONNECT_TIMEOUT = 0.5
    settings.FASTTRACK_READ_TIMEOUT = 0.5
    return receiver


# --- worker processes -------------------------------------------------------------------------------

def worker_database_url() -> str:
    """The URL of the database this test run uses (pytest-django's test database), for child processes."""
    url = os.environ.get("DATABASE_URL") or engines.database_url()
    return urlunsplit(urlsplit(url)._replace(path=f"/{connection.settings_dict['NAME']}"))


class Worker:
    """`celery -A igaming worker` as a child process of its own process group, on a private queue."""

    def __init__(self, *, queue: str, receiver_url: str, tmp_dir: Path, beat: bool = False, concurrency: int = 2,
                 **env: str):
        self.queue = queue
        self.lines: list[str] = []
        self._ready = threading.Event()
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "igaming.settings",
            "DATABASE_URL": worker_database_url(),
            "REDIS_URL": django_settings.REDIS_URL,
            "CRM_DELIVERY_QUEUE": queue,
            "FASTTRACK_BASE_URL": receiver_url,
            "FASTTRACK_API_KEY": "test-api-key",
            "FASTTRACK_CONNECT_TIMEOUT": "0.5",
            "FASTTRACK_READ_TIMEOUT": "1",
            "CRM_DELIVERY_LEASE_SECONDS": "10",
            "CRM_DELIVERY_SWEEP_SECONDS": "1",
            "DB_CONN_MAX_AGE": "0",
            **env,
        }
        command = [CELERY, "-A", "igaming", "worker", "-Q", queue, "-c", str(concurrency), "-n",
                   f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--without-gossip", "--without-mingle",
                   "--without-heartbeat", "-l", "INFO"]
        if beat:
            command += ["-B", "-s", str(tmp_dir / f"beat-{uuid.uuid4().hex[:6]}")]
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(30):
            self.kill()
            raise RuntimeError("celery worker did not start:\n" + "\n".join(self.lines[-30:]))

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip())
            if " ready." in line:
                self._ready.set()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group: the main process and its pool children."""
        if self.process.poll() is None or sig == signal.SIGKILL:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        self.kill(signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def start_worker(tmp_path, settings):
    """Start Celery workers for this test; every one is killed at teardown, whatever happened."""
    workers: list[Worker] = []

    def start(*, queue: str, receiver_url: str, **options) -> Worker:
        worker = Worker(queue=queue, receiver_url=receiver_url, tmp_dir=tmp_path, **options)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def wait_until(condition, timeout: float = 20.0, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
