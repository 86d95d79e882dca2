"""Celery tasks of the CRM app: thin, they call `crm.delivery`.

`crm_outbox_deliver` is sent three ways: after the commit of every transaction that wrote events (the
fast path), with a countdown when a short retry falls due, and by Celery beat every
CRM_DELIVERY_SWEEP_SECONDS (the safety net for kicks lost with Redis or a worker). Running it twice, or
in many workers at once, is safe: work is claimed with leases.
"""

from celery import shared_task

from crm.delivery import delivery_run


# No Celery retry: a failed run leaves every event in the outbox, and the next kick or sweep carries on.
@shared_task(ignore_result=True, max_retries=0, acks_late=True)
def crm_outbox_deliver() -> dict:
    """Deliver the due CRM events until none is left or the run's time budget is spent."""
    return delivery_run().as_dict()
