"""Thin Celery tasks of the games: they call a service."""

from celery import shared_task

from games.services.sessions import game_sessions_expire


@shared_task(acks_late=True, max_retries=0)
def games_sessions_expire() -> int:
    """End idle and over-limit game sessions (beat, every minute). Safe to run twice at once."""
    return game_sessions_expire()
