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
    """Headcounts of the roster on a day, in one query: agents employed that day, and
    agents who left this employer on retirement before it (they stay on its roster)."""
    day = day or timezone.localdate()
    employed = Q(start_date__lte=day) & (Q(end_date__isnull=True) | Q(end_date__gte=day))
    retired = Q(end_reason=Employment.EndReason.RETIREMENT, end_date__lt=day, agent__status="retired")
    return Employment.objects.filter(employer=adherent).aggregate(
        working=Count("agent", filter=employed, distinct=True),
        retired=Count("agent", filter=retired, distinct=True),
    )


def covered_count(*, adherent: Adherent, day: datetime.date | None = None) -> int:
    day = day or timezone.localdate()
    return Coverage.objects.on(day).filter(adherent=adherent).values("agent").distinct().count()
