import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "igaming.settings")
django_application = get_wsgi_application()

# The game providers' wallet calls are answered in front of Django's handler (games/seamless/wsgi.py).
from games.seamless.wsgi import SeamlessWalletApp  # noqa: E402  (needs the apps loaded above)

application = SeamlessWalletApp(django_application)
