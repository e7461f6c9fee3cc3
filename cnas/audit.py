"""The one way services write to the audit trail."""

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from cnas.models import AuditEntry


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit entry; call it inside the service's transaction.

    ``actor`` is the user who acted, or None for the system (a task, a command).
    ``changes`` must be JSON-serialisable (dates as ISO strings).
    """
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        actor=user,
        action=action,
        content_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
        object_id=str(target.pk),
        object_repr=str(target)[:255],
        reason=reason,
        changes=changes or {},
    )
