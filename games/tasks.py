"""Thin Celery tasks of the games: they call a service."""

from celery import shared_task

from games.seamless.signing import request_nonces_purge
from games.services.sessions import game_sessions_expire


@shared_task(acks_late=True, max_retries=0)
def games_sessions_expire() -> int:
    """End idle and over-limit game sessions (beat, every minute). Safe to run twice at once."""
    return game_sessions_expire()


@shared_task(acks_late=True, max_retries=0)
def games_request_nonces_purge() -> int:
    """Delete the signed requests' nonces too old to matter (beat, every minute). Safe to run twice."""
    return request_nonces_purge()
