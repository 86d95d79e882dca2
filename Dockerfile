# The production image: the web server (uWSGI), Celery worker and beat all run from it (see docker-compose.yml).
# PostgreSQL and Redis are separate services given by DATABASE_URL / REDIS_URL: the embedded engines of
# a developer machine (igaming/engines.py) never start in a container.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system app \
 && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. Every pin has a manylinux wheel
# for Python 3.12: no compiler needed.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected at build time and served by WhiteNoise. Settings need a secret and
# server URLs to load; these placeholders are never used to connect and are not kept in the image.
RUN SECRET_KEY=collectstatic-only \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    PSP_WEBHOOK_SECRET=collectstatic-only \
    GAME_PROVIDER_SECRETS='{"demo": "collectstatic-only"}' \
    python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /app/.data \
 && chown app:app /app/.data

# The code is root-owned and read-only for the app; only .data/ (celery beat's schedule) is writable.
USER app

EXPOSE 8000 8001

# igaming/webserver.py: uWSGI's HTTP router and threaded workers ($WEB_CONCURRENCY, else one per two
# cores; $WEB_THREADS, else 8), keep-alive, time-outs, recycling, graceful stop on SIGTERM. Its access log
# has the method, the path, the status, the size and the time, and no query string, client address or
# user agent: support searches by e-mail and logs hold no personal data.
# The wallet server (game providers' calls) is the same image with another command (docker-compose.yml):
# python -m igaming.walletserver --bind 0.0.0.0:8001
CMD ["python", "-m", "igaming.webserver", "--bind", "0.0.0.0:8000"]
