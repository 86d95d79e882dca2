import gc
import itertools
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "igaming.settings")
django_application = get_wsgi_application()

# The game providers' wallet calls are answered in front of Django's handler (games/seamless/wsgi.py).
from games.seamless.wsgi import SeamlessWalletApp  # noqa: E402  (needs the apps loaded above)

GC_FREEZE_AGAIN_AFTER_REQUESTS = 1000


class FrozenAfterWarmUp:
    """Keeps the objects that live as long as the process out of the garbage collector's reach.

    Django, DRF, Celery and the app's modules leave some 100,000 objects that live as long as the
    worker. CPython's full (oldest-generation) collection walks all of them, holding the GIL: measured
    under the games bench, 66-172 ms during which none of the worker's threads runs, the long tail of
    the wallet's latency. gc.freeze() moves them out of the collector's reach (CPython documents it for
    servers that fork; here it is the reach that matters): a full collection then took 1-22 ms. Frozen once
    the application is loaded, and again after the first requests have built what is built lazily
    (URL resolvers, caches, connections).
    """

    def __init__(self, app):
        self.app = app
        self.requests = itertools.count(1)  # next() is atomic under the GIL: the worker's threads share it
        gc.freeze()

    def __call__(self, environ, start_response):
        if next(self.requests) == GC_FREEZE_AGAIN_AFTER_REQUESTS:
            gc.freeze()
        return self.app(environ, start_response)


application = FrozenAfterWarmUp(SeamlessWalletApp(django_application))
