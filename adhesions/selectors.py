"""Read-only questions about adherents and entitlement, asked in one place."""

import datetime

from django.db.models import Count, Q
from django.utils import timezone

from adhesions.models import Adherent, Coverage, Employment


def coverage_on(*, agent, day: datetime.date | None = None) -> Coverage | None:
    """Is this agent covered on this day, and by which adherent? (None: not covered)."""
    day = day or timezone.localdate()
    return (
        Coverage.objects.on(day).filter(agent=agent).select_related("adherent")
        .order_by("period").first()
    )


def roster_counts(*, adherent: Adherent, day: datetime.date | None = None) -> dict[str, int]:
    """Headcounts of the roster on a day, in one query."""
    day = day or timezone.localdate()
    return Employment.objects.filter(employer=adherent).on(day).aggregate(
        total=Count("id"),
        working=Count("id", filter=Q(agent__status="working")),
        retired=Count("id", filter=Q(agent__status="retired")),
    )


def covered_count(*, adherent: Adherent, day: datetime.date | None = None) -> int:
    day = day or timezone.localdate()
    return Coverage.objects.on(day).filter(adherent=adherent).values("agent").distinct().count()
