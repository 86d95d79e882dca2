"""gunicorn's settings for the web process, read from the working directory (the image's /app, and
the repository root where `make bench` starts gunicorn).

Threaded workers keeping connections alive: game providers call the wallet on every bet over a
kept-alive connection, and the sync worker closes each one after its answer. HTTP is parsed in C by
gunicorn_h1c (requirements.txt), which gunicorn picks up by itself (http_parser "auto").

Workers: WEB_CONCURRENCY, else one per two cores; threads: WEB_THREADS, else 3. A request spends most
of its time waiting on PostgreSQL and Redis, with the GIL released, so a few threads keep a worker's
core busy; and fewer processes cost less CPU per request (shared caches, fewer wake-ups). Measured on
the 2-core bench machine with the database on the same cores (interleaved paced runs of the games
benchmark, the whole machine's CPU per wallet call): 1 worker x 3 threads 2.8-2.9 ms, 3 x 2 3.2-4.1 ms,
2 x 2 3.7 ms. With the database on its own host, set WEB_CONCURRENCY to about the number of cores.
"""

import gc
import os

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY") or max(1, (os.cpu_count() or 2) // 2))
threads = int(os.environ.get("WEB_THREADS") or 3)
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
