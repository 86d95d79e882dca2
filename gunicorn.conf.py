"""gunicorn's settings for the web process, read from the working directory (the image's /app, and
the repository root where `make bench` starts gunicorn).

Threaded workers keeping connections alive: game providers call the wallet on every bet over a
kept-alive connection, and the sync worker closes each one after its answer. Measured with the games
benchmark on the 2-core bench machine, 3 workers x 2 threads served the most bets per second; more
threads only queue on the cores and on the GIL. HTTP is parsed in C by gunicorn_h1c (requirements.txt),
which gunicorn picks up by itself (http_parser "auto").
"""

import gc
import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
threads = int(os.environ.get("WEB_THREADS", "2"))
keepalive = 30
timeout = 30
graceful_timeout = 30
# Recycle a worker now and then (a leak cannot grow for ever), rarely: a new worker loads Django
# and opens new database connections, which compile the wallet's SQL functions again.
max_requests = 200_000
max_requests_jitter = 20_000


# Django, DRF, Celery and the app's modules leave some 100,000 objects that live as long as the worker.
# CPython's full (oldest-generation) collection walks all of them, holding the GIL: measured under the
# games bench, 66-172 ms during which none of the worker's threads runs, the long tail of the wallet's
# latency. gc.freeze() moves them out of the collector's reach (what CPython's documentation advises for
# forking servers): a full collection then took 1-22 ms. Frozen once the application is loaded, and
# again after the first requests have built what is built lazily (URL resolvers, caches, connections).
GC_FREEZE_AGAIN_AFTER_REQUESTS = 1000


def post_worker_init(worker):
    gc.freeze()


def post_request(worker, req, environ, resp):
    if worker.nr >= GC_FREEZE_AGAIN_AFTER_REQUESTS and not getattr(worker, "gc_frozen_again", False):
        worker.gc_frozen_again = True
        gc.freeze()
