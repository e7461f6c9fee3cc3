"""Read-only questions about adherents and entitlement, asked in one place."""

import datetime
from dataclasses import dataclass

from django.db.models import Case, Count, IntegerField, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.models import Adherent, Coverage, Employment

# An agent's own coverage comes before the extension of his rights after a departure.
EXTENSION_LAST = Case(When(source=Coverage.Source.EXTENSION, then=Value(1)), default=Value(0),
                      output_field=IntegerField())


# --- A roster's counts, cached until the roster changes ------------------------------------------
# Counting a roster's lines (or its agents who can be invited) reads all of them: a roster page
# takes its counts from the cache instead, under the roster's version, which every change of the
# roster or of its coverage replaces when it commits (adhesions.services: the roster lock, the
# coverage rows, invitations). The time to live bounds what a missed change, or Redis down (each
# process then caches for itself), can leave stale.

ROSTER_COUNTS_TTL = 600


def _roster_version_key(adherent_id: int) -> str:
    return f"roster-version:{adherent_id}"


def roster_changed(adherent_id: int) -> None:
    """This adherent's roster or coverage changes: its cached counts go now, and again once the change
    commits (a count read meanwhile, before the change was visible, is not kept under the new version)."""
    import time

    from django.core.cache import cache
    from django.db import transaction

    def renew() -> None:
        cache.set(_roster_version_key(adherent_id), time.time_ns(), None)

    renew()
    transaction.on_commit(renew)


def cached_roster_count(*, adherent_id: int, what: str, count) -> int:
    """``count()`` for this roster and this question (``what``: the page's filters), from the cache
    while the roster has not changed (and for ten minutes at most)."""
    import hashlib

    from django.core.cache import cache

    version = cache.get(_roster_version_key(adherent_id), 0)
    digest = hashlib.sha256(what.encode()).hexdigest()[:24]
    key = f"roster-count:{adherent_id}:{version}:{timezone.localdate().isoformat()}:{digest}"
    value = cache.get(key)
    if value is None:
        value = count()
        cache.set(key, value, ROSTER_COUNTS_TTL)
    return value


def manager_roles(user) -> frozenset[str]:
    """The roles this user holds for adherents (correspondent, COS administrator), read once per
    request: every page asks which spaces he may enter."""
    cached = getattr(user, "_manager_roles", None)
    if cached is None:
        from adhesions.models import Manager

        cached = frozenset(Manager.objects.filter(user=user).order_by().values_list("role", flat=True).distinct())
        user._manager_roles = cached
    return cached


def coverage_on(*, agent, day: datetime.date | None = None) -> Coverage | None:
    """Is this agent covered on this day, and by which adherent? (None: not covered)."""
    day = day or timezone.localdate()
    return (
        Coverage.objects.on(day).filter(agent=agent).select_related("adherent")
        .order_by(EXTENSION_LAST, "period").first()
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


def calls_with_balance(*, adherent: Adherent):
    from adhesions.models import ContributionCall

    return ContributionCall.objects.filter(adherent=adherent).with_balance().order_by("-year", "issued_at")


ARREARS_SQL = """
SELECT c.adherent_id, MIN(c.year)
FROM adhesions_contributioncall c
WHERE c.adherent_id IN ({adherents})
  AND c.amount - COALESCE((SELECT SUM(p.amount) FROM adhesions_payment p WHERE p.call_id = c.id), 0) > 0
  AND c.due_date + (SELECT s.grace_days FROM adhesions_contributionscale s WHERE s.year = c.year LIMIT 1) < %s
GROUP BY c.adherent_id
"""


def arrears(*, adherent_ids, day: datetime.date | None = None) -> dict[int, int]:
    """Adherents in arrears on ``day``: a call with a balance left (its amount less its payments) past
    its due date plus the grace period of its year's scale (no scale, no arrears). Returns {adherent
    id: the oldest such year}. ``adherent_ids``: a list, or a query of ids. One statement written
    out: every agent page asks it, and the ORM took longer to build it than PostgreSQL to answer."""
    from django.db import connection
    from django.db.models import QuerySet

    day = day or timezone.localdate()
    if isinstance(adherent_ids, QuerySet):
        subquery, params = adherent_ids.query.sql_with_params()
    else:
        adherent_ids = [int(pk) for pk in adherent_ids]
        if not adherent_ids:
            return {}
        subquery, params = ", ".join(["%s"] * len(adherent_ids)), adherent_ids
    with connection.cursor() as cursor:
        cursor.execute(ARREARS_SQL.format(adherents=subquery), [*params, day])
        return dict(cursor.fetchall())


@dataclass(frozen=True)
class Entitlement:
    """Is the agent covered on a day, by which adherent, and may he or she order now?"""

    coverage: Coverage | None
    blocked_year: int | None = None

    @property
    def covered(self) -> bool:
        return self.coverage is not None

    @property
    def may_order(self) -> bool:
        return self.coverage is not None and self.blocked_year is None

    @property
    def reason(self) -> str:
        if self.coverage is None:
            return _("Aucun adhérent ne vous ouvre droit aux prestations à cette date.")
        if self.blocked_year is not None:
            return _("Votre collectivité n'est pas à jour de sa cotisation %(year)s : les nouvelles demandes "
                     "sont suspendues jusqu'à son règlement.") % {"year": self.blocked_year}
        if self.is_extension:
            return _("Vous restez couvert(e) jusqu'au %(date)s au titre de %(name)s.") % {
                "date": self.coverage.end_date.strftime("%d/%m/%Y"), "name": self.coverage.adherent.name}
        return _("Vous êtes couvert(e) par %(name)s.") % {"name": self.coverage.adherent.name}

    @property
    def is_extension(self) -> bool:
        """Covered only by the rights kept after leaving an employer (until 31 December)."""
        return self.coverage is not None and self.coverage.source == Coverage.Source.EXTENSION


def entitlement_on(*, agent, day: datetime.date | None = None) -> Entitlement:
    """The one question of entitlement: covered on ``day``, by whom, and is that adherent's
    contribution up to date? An agent covered by several adherents may order through any
    one that is up to date."""
    day = day or timezone.localdate()
    coverages = list(Coverage.objects.on(day).filter(agent=agent).select_related("adherent")
                     .order_by(EXTENSION_LAST, "period"))
    if not coverages:
        return Entitlement(coverage=None)
    late = arrears(adherent_ids=[c.adherent_id for c in coverages], day=day)
    for coverage in coverages:
        if coverage.adherent_id not in late:
            return Entitlement(coverage=coverage)
    return Entitlement(coverage=coverages[0], blocked_year=late[coverages[0].adherent_id])


def delegation_of(user, *, day: datetime.date | None = None):
    """The regional delegation a person of the portal deals with (None: none known): an agent's is the
    region of the adherent that covers him today (his employer, or his COS), else of his latest
    employer; a correspondent's or COS administrator's, the region of the structure he manages."""
    from adhesions.models import Manager, Region

    if not getattr(user, "is_authenticated", False):
        return None
    agent = getattr(user, "agent", None)  # None: no agent's file tied to the account
    if agent is not None:
        coverage = coverage_on(agent=agent, day=day)
        if coverage is not None:
            return Region.objects.get(pk=coverage.adherent.region_id)
        employment = (Employment.objects.filter(agent=agent).select_related("employer__region")
                      .order_by("-start_date", "-pk").first())
        if employment is not None:
            return employment.employer.region
    manager = (Manager.objects.filter(user=user).select_related("adherent__region")
               .order_by("adherent__name", "pk").first())
    return manager.adherent.region if manager is not None else None
