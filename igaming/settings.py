"""Settings, all read from the environment (`.env.example` lists every one).

Without `DATABASE_URL` / `REDIS_URL` the project starts embedded real PostgreSQL and Redis servers
(see `igaming/engines.py`); there is no SQLite and no in-memory fake anywhere.
"""

import secrets
from pathlib import Path

import environ
from celery.schedules import crontab

from igaming import engines

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)


def _dev_secret(file_name: str, length: int = 32) -> str:
    """A secret a deployment sets in the environment; a developer machine gets one generated once
    under .data/ (0600), where `make run` also hands it to the simulator that needs it."""
    secret_file = engines.DATA_DIR / file_name
    if not secret_file.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(secrets.token_urlsafe(length))
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="") or _dev_secret("secret_key", length=50)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "axes",
    "audit",
    "players",
    "wallet",
    "bonuses",
    "games",
    "crm",
]

MIDDLEWARE = [
    # First: answers the game providers' signed wallet calls without the rest (games/seamless/handler.py)
    # where they come through Django's handler; igaming.wsgi answers them before it (games/seamless/wsgi.py).
    "games.seamless.handler.SeamlessWalletMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "players.middleware.PlayerSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out staff login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Staff logins are counted by django-axes, which locks out brute force (player logins do not
    # go through Django auth: see players/services/auth.py).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "igaming.urls"
WSGI_APPLICATION = "igaming.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "players.context_processors.current_player",
            ],
        },
    },
]

DATABASES = {"default": env.db_url_config(engines.database_url())}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # transaction boundaries live in the services
# Separate names let several test runs share one server (parallel CI jobs, developers' checkouts).
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", default="test_igaming")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = engines.redis_url()
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="igaming"),
    }
}

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto, redirect http, and send HSTS.
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every request when it is missing
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOGIN_URL = "/admin/login/"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "players.authentication.PlayerTokenAuthentication",
        "players.authentication.PlayerSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["players.authentication.IsPlayer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "igaming.api_errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "iGaming back-office API",
    "DESCRIPTION": (
        "Player API, Fast Track Operator API and seamless-wallet API of a Fast Track native "
        "iGaming back-office. Errors share one body: {\"error\": <message>, \"code\": <code>}."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
}

# Fast Track real-time events (we send them): where to, with which credential, how long to wait.
FASTTRACK_BASE_URL = env("FASTTRACK_BASE_URL", default="http://127.0.0.1:8100")
# A developer machine gets a key generated under .data/, which `make run` also gives the Fast Track simulator.
FASTTRACK_API_KEY = env("FASTTRACK_API_KEY", default="") or _dev_secret("fasttrack_api_key")
FASTTRACK_API_KEY_HEADER = env("FASTTRACK_API_KEY_HEADER", default="X-API-Key")
FASTTRACK_CONNECT_TIMEOUT = env.float("FASTTRACK_CONNECT_TIMEOUT", default=2.0)
FASTTRACK_READ_TIMEOUT = env.float("FASTTRACK_READ_TIMEOUT", default=5.0)
# CRM event delivery (docs/crm-delivery.md): the transport, the Celery queue of the delivery tasks,
# batch sizes, the claim lease and the dead-letter horizon.
CRM_TRANSPORT = env("CRM_TRANSPORT", default="rest")
CRM_DELIVERY_QUEUE = env("CRM_DELIVERY_QUEUE", default="celery")
CRM_DELIVERY_BATCH_PLAYERS = env.int("CRM_DELIVERY_BATCH_PLAYERS", default=200)
CRM_DELIVERY_CHAIN = env.int("CRM_DELIVERY_CHAIN", default=20)
CRM_DELIVERY_THREADS = env.int("CRM_DELIVERY_THREADS", default=16)
CRM_DELIVERY_LEASE_SECONDS = env.float("CRM_DELIVERY_LEASE_SECONDS", default=30.0)
CRM_DELIVERY_RUN_SECONDS = env.float("CRM_DELIVERY_RUN_SECONDS", default=20.0)
CRM_DELIVERY_GIVE_UP_HOURS = env.float("CRM_DELIVERY_GIVE_UP_HOURS", default=72.0)
CRM_DELIVERY_SWEEP_SECONDS = env.float("CRM_DELIVERY_SWEEP_SECONDS", default=10.0)
# Commits within this many milliseconds share one delivery task (0: one task per commit). Each window costs
# the first committing process one Celery publish (1-3 ms of CPU on the bench machine): 100 rather than 50
# halves that for a busy wallet server, and a CRM event's p99 latency stays at about 90 ms (docs/games-speed-log.md).
CRM_DELIVERY_KICK_COALESCE_MS = env.int("CRM_DELIVERY_KICK_COALESCE_MS", default=100)

# Celery: Redis as broker; results are not needed (tasks write their outcome to the database).
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A business request publishing a task must not hang for minutes on an unreachable Redis.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2}
CELERY_TIMEZONE = TIME_ZONE
# Periodic schedules live here and nowhere else.
CELERY_BEAT_SCHEDULE = {
    # Ends game sessions that went idle or ran past the player's session-time limit.
    "games-sessions-expire": {
        "task": "games.tasks.games_sessions_expire",
        "schedule": 60.0,
    },
    # Forgets the providers' request nonces once no request could bring them back (twice the signature's window).
    "games-request-nonces-purge": {
        "task": "games.tasks.games_request_nonces_purge",
        "schedule": 60.0,
    },
    "players-apply-due-changes": {
        "task": "players.tasks.players_apply_due_changes",
        "schedule": 60.0,
    },
    # Expires abandoned deposits and (re)sends approved payouts the PSP has not accepted yet.
    "wallet-payments-sweep": {
        "task": "wallet.tasks.wallet_payments_sweep",
        "schedule": 60.0,
    },
    # Nightly proof that every cached balance equals its ledger; drift shows in the admin.
    "wallet-reconcile-nightly": {
        "task": "wallet.tasks.wallet_reconcile",
        "schedule": crontab(hour=3, minute=15),
    },
    # Delivers CRM events a commit-time kick missed (Redis or a worker down) and retries that are due.
    "crm-outbox-sweep": {
        "task": "crm.tasks.crm_outbox_deliver",
        "schedule": CRM_DELIVERY_SWEEP_SECONDS,
        "options": {"queue": CRM_DELIVERY_QUEUE, "expires": CRM_DELIVERY_SWEEP_SECONDS},
    },
}

# Staff brute-force protection (django-axes): 5 failures per username and IP lock out for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Player rules.
PLAYER_MINIMUM_AGE = env.int("PLAYER_MINIMUM_AGE", default=18)
PLAYER_LIMIT_COOLING_OFF_HOURS = env.int("PLAYER_LIMIT_COOLING_OFF_HOURS", default=24)
PLAYER_TOKEN_TTL_DAYS = env.int("PLAYER_TOKEN_TTL_DAYS", default=30)
PLAYER_LOGIN_FAILURE_LIMIT = env.int("PLAYER_LOGIN_FAILURE_LIMIT", default=10)
DEFAULT_BRAND_CODE = env("DEFAULT_BRAND_CODE", default="demo")


# Wallet and payments (docs/wallet.md). PSP_BASE_URL is for server-to-server calls (payouts);
# PSP_PUBLIC_URL is where the player's browser goes for the hosted payment page.
PSP_BASE_URL = env("PSP_BASE_URL", default="http://127.0.0.1:8300")
PSP_PUBLIC_URL = env("PSP_PUBLIC_URL", default=PSP_BASE_URL)
PSP_WEBHOOK_SECRET = env("PSP_WEBHOOK_SECRET", default="") or _dev_secret("psp_webhook_secret")
PSP_WEBHOOK_TOLERANCE_SECONDS = env.int("PSP_WEBHOOK_TOLERANCE_SECONDS", default=300)
PSP_TIMEOUT_SECONDS = env.float("PSP_TIMEOUT_SECONDS", default=5.0)
PSP_VENDOR_ID = env("PSP_VENDOR_ID", default="psp-simulator")
PSP_VENDOR_NAME = env("PSP_VENDOR_NAME", default="Simulated PSP")
PSP_DEPOSIT_EXPIRY_MINUTES = env.int("PSP_DEPOSIT_EXPIRY_MINUTES", default=60)
WALLET_BASE_CURRENCY = env("WALLET_BASE_CURRENCY", default="EUR")
# House accounts per kind and currency are split in this many rows (player id modulo N), so concurrent
# postings of different players do not queue on one row lock. Changing it is safe: balances are summed.
WALLET_HOUSE_SHARDS = env.int("WALLET_HOUSE_SHARDS", default=16)
WALLET_EXCHANGE_RATES = env.json("WALLET_EXCHANGE_RATES", default={})

def _game_provider_secrets() -> dict[str, str]:
    """Each game provider's HMAC secret, by vendor code: `GAME_PROVIDER_SECRETS='{"acme": "..."}'`.

    A developer machine gets one for the demo vendor generated once under .data/, where `make run`
    hands it to the provider simulator.
    """
    configured = env.json("GAME_PROVIDER_SECRETS", default={})
    if "demo" not in configured:
        configured["demo"] = _dev_secret("provider_secret_demo")
    return configured


# Games (docs/games.md): provider secrets, the signed-request window, session expiry, the demo provider.
GAME_PROVIDER_SECRETS = _game_provider_secrets()
GAME_SIGNATURE_MAX_SKEW_SECONDS = env.int("GAME_SIGNATURE_MAX_SKEW_SECONDS", default=300)
GAME_SESSION_IDLE_MINUTES = env.int("GAME_SESSION_IDLE_MINUTES", default=30)
# Book the common bet and win in one SQL statement each (games/services/fast_path.py); off: every
# call takes the Python path.
GAME_WALLET_FAST_PATH = env.bool("GAME_WALLET_FAST_PATH", default=True)
GAME_DEMO_PROVIDER_URL = env("GAME_DEMO_PROVIDER_URL", default="http://127.0.0.1:8200")
# The wallet server (igaming/walletserver.py): PostgreSQL connections of its fast path (unset: twice the
# machine's cores, at most 8: games.seamless.server.fast_path_connections), and threads (each with a Django
# connection of its own) for the calls the fast path leaves to the full one.
WALLET_SERVER_DB_CONNECTIONS = env.int("WALLET_SERVER_DB_CONNECTIONS", default=None)
WALLET_SERVER_THREADS = env.int("WALLET_SERVER_THREADS", default=4)

# Operator API (Fast Track calls us): lifetime of the OAuth2 bearer tokens, and where
# `manage.py operator_api_key ensure` keeps the credentials of local clients (the Fast Track simulator).
OPERATOR_API_TOKEN_TTL_SECONDS = env.int("OPERATOR_API_TOKEN_TTL_SECONDS", default=900)
OPERATOR_API_CREDENTIALS_DIR = Path(
    env("OPERATOR_API_CREDENTIALS_DIR", default=str(engines.DATA_DIR / "operator-keys"))
)

# Logs carry ids, never names, emails, addresses or request bodies.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "ERROR"},
    },
}
