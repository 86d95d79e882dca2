from celery import shared_task

from players.services.blocks import blocks_expire_due
from players.services.limits import limits_apply_due


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def players_apply_due_changes() -> dict:
    """Periodic: blocks whose end has passed, and limit changes whose cooling-off is over."""
    return {"blocks": blocks_expire_due(), "limits": limits_apply_due()}
