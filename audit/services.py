from __future__ import annotations

from django.db import transaction

from audit.models import AuditEntry


def audit_record(
    *,
    actor,
    action: str,
    target,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    actor_label: str | None = None,
) -> AuditEntry:
    """Record one write. Must run inside the transaction of the change it describes.

    `actor` is the staff user, or None for the system and CRM callers (named by `actor_label`).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record() must be called inside the transaction of the change")
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor is not None else "system"),
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        before=before or {},
        after=after or {},
        reason=reason,
    )
