"""The web server the image runs (igaming/webserver.py, uWSGI) and the WSGI application it serves."""

import gc
import http.client
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from benchmarks.common import free_port, wait_for_health
from igaming import webserver

ROOT = Path(__file__).resolve().parent.parent


def _option(options: list[str], name: str) -> str:
    return options[options.index(name) + 1]


def test_the_web_server_runs_one_worker_per_two_cores_with_eight_threads_unless_told(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    # docker-compose passes WEB_CONCURRENCY empty when it is unset
    options = webserver.uwsgi_options(bind=":8000", socket_path="/s", environ={"WEB_CONCURRENCY": ""})
    assert (_option(options, "--processes"), _option(options, "--threads")) == ("4", "8")

    monkeypatch.setattr("os.cpu_count", lambda: 1)
    assert _option(webserver.uwsgi_options(bind=":8000", socket_path="/s", environ={}), "--processes") == "1"

    options = webserver.uwsgi_options(bind=":8000", socket_path="/s",
                                      environ={"WEB_CONCURRENCY": "5", "WEB_THREADS": "2"})
    assert (_option(options, "--processes"), _option(options, "--threads")) == ("5", "2")


def test_the_image_runs_the_web_server_and_compose_waits_for_its_graceful_stop():
    import yaml

    dockerfile = (ROOT / "Dockerfile").read_text()
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]

    assert re.search(r'^CMD \["python", "-m", "igaming\.webserver", "--bind", "0\.0\.0\.0:8000"\]$', dockerfile,
                     re.MULTILINE)
    mercy = int(_option(webserver.uwsgi_options(bind=":8000", socket_path="/s", environ={}), "--worker-reload-mercy"))
    assert int(web["stop_grace_period"].removesuffix("s")) > mercy


def test_the_web_server_keeps_connections_alive_logs_no_personal_data_and_stops_gracefully(tmp_path):
    port = free_port()
    env = {**os.environ, "DEBUG": "0", "WEB_CONCURRENCY": "1", "WEB_THREADS": "2"}
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        server = subprocess.Popen([sys.executable, "-m", "igaming.webserver", "--bind", f"127.0.0.1:{port}"],
                                  cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_health(port, server, str(log))
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        answers, sockets = [], []
        for _ in range(2):
            connection.request("POST", "/wallet-api/v1/bet?email=someone%40example.com", body=b"{}",
                               headers={"User-Agent": "provider-agent/1.0"})
            response = connection.getresponse()
            answers.append((response.status, response.read()))
            sockets.append(connection.sock)
        connection.close()

        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    output = log.read_text()

    assert [status for status, _ in answers] == [401, 401]
    assert b'"code":"UNKNOWN_PROVIDER"' in answers[0][1]  # the seamless wallet's own answer
    assert sockets[0] is not None and sockets[1] is sockets[0]  # the second call came on the same connection
    requests = [line for line in output.splitlines() if line.startswith('"POST /wallet-api/v1/bet')]
    assert len(requests) == 2 and all(re.fullmatch(r'"POST /wallet-api/v1/bet" 401 \d+ \d+ms', line)
                                      for line in requests)
    assert "someone" not in output and "provider-agent" not in output
    assert "graceful shutdown" in output and server.returncode == 0
    socket_path = re.search(r"UNIX address (\S+)", output).group(1)
    assert not Path(socket_path).parent.exists()  # the workers' socket and its private directory are gone


def test_each_web_worker_freezes_its_long_lived_objects_out_of_the_collectors_reach():
    from igaming.wsgi import GC_FREEZE_AGAIN_AFTER_REQUESTS, FrozenAfterWarmUp

    def app(environ, start_response):
        return [b""]

    def in_the_collectors_reach(obj) -> bool:  # frozen objects are in none of the generations it walks
        return any(tracked is obj for tracked in gc.get_objects())

    try:
        gc.unfreeze()
        application = FrozenAfterWarmUp(app)
        frozen_at_start = gc.get_freeze_count()
        for _ in range(GC_FREEZE_AGAIN_AFTER_REQUESTS - 1):
            application({}, None)
        kept = object.__new__(type("LazilyBuilt", (), {}))  # what the first requests build
        # Not frozen again yet. (The frozen count itself may drop: a frozen object can still be freed.)
        assert in_the_collectors_reach(kept) and gc.get_freeze_count() <= frozen_at_start

        application({}, None)

        assert frozen_at_start > 0 and not in_the_collectors_reach(kept)
        assert gc.get_freeze_count() > frozen_at_start
    finally:
        gc.unfreeze()


def test_compose_runs_the_wallet_server_and_waits_for_its_graceful_stop():
    import yaml

    from igaming import walletserver

    wallet = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["wallet"]
    options = walletserver.uvicorn_options(bind="0.0.0.0:8001")

    assert (options["host"], options["port"], options["loop"], options["http"]) == ("0.0.0.0", 8001, "uvloop",
                                                                                   "httptools")
    assert options["access_log"] is False  # uvicorn's logs the client's address and query; the server logs its own
    assert int(wallet["stop_grace_period"].removesuffix("s")) > options["timeout_graceful_shutdown"]
    assert options["timeout_keep_alive"] >= 60  # providers keep their connection between rounds
