"""Coverage through a COS, derived from its members, their fees, its adhesions and its
conventions — recomputed, never edited by hand (like the employers' in adhesions.coverage).

A member is covered by the COS while the COS adheres and he is a member; for each year, until
the COS's fee deadline if the fee of that year is unpaid, all year if it is paid. While a
tripartite convention runs with his employer, his coverage comes from the employer instead."""

import datetime
from collections import defaultdict

from django.utils import timezone

from adhesions.coverage import replace_rows
from adhesions.models import Adherent, Adhesion, BasisPeriod, Coverage, Employment
from cos.models import Convention, CosMember, CosSettings, MemberFee

DAY = datetime.timedelta(days=1)
SOURCE = Coverage.Source.COS_MEMBERSHIP
Interval = tuple[datetime.date, datetime.date]  # both days included


def _clip(a: Interval, b: Interval) -> Interval | None:
    lower, upper = max(a[0], b[0]), min(a[1], b[1])
    return (lower, upper) if lower <= upper else None


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    result = intervals
    for hole_start, hole_end in holes:
        next_result = []
        for start, end in result:
            if hole_end < start or hole_start > end:
                next_result.append((start, end))
                continue
            if start < hole_start:
                next_result.append((start, hole_start - DAY))
            if end > hole_end:
                next_result.append((hole_end + DAY, end))
        result = next_result
    return result


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + DAY:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def member_periods(*, memberships, adhesions, fees: set[int], settings: CosSettings, conventions,
                   today: datetime.date) -> list[Interval]:
    far = datetime.date(9999, 12, 30)
    periods: list[Interval] = []
    for joined, left in memberships:
        for a_start, a_end in adhesions:
            span = _clip((joined, left or far), (a_start, a_end or far))
            if span is None:
                continue
            for year in range(span[0].year, min(span[1].year, today.year + 1) + 1):
                within = _clip(span, (datetime.date(year, 1, 1), datetime.date(year, 12, 31)))
                if within is None:
                    continue
                if year not in fees:
                    within = _clip(within, (within[0], settings.deadline(year)))
                if within is not None:
                    periods.append(within)
    return _merge(_subtract(_merge(periods), conventions))


def sync_cos_coverage(*, cos: Adherent, agent_ids=None, today: datetime.date | None = None) -> int:
    """Bring the COS's coverage of these agents (all its members when None), and the basis of
    its contribution, in line; return how many agents' coverage changed. Call it in a
    transaction."""
    today = today or timezone.localdate()
    settings, _ = CosSettings.objects.get_or_create(cos=cos)
    members = CosMember.objects.filter(cos=cos)
    if agent_ids is not None:
        members = members.filter(agent_id__in=list(agent_ids))
    memberships, fees = defaultdict(list), defaultdict(set)
    member_agent = {}
    for pk, agent_id, joined, left in members.values_list("pk", "agent_id", "joined_on", "left_on"):
        memberships[agent_id].append((joined, left))
        member_agent[pk] = agent_id
    for member_id, year in MemberFee.objects.filter(member_id__in=member_agent).values_list("member_id", "year"):
        fees[member_agent[member_id]].add(year)
    agents = set(memberships) | set(agent_ids or [])
    adhesions = list(Adhesion.objects.filter(adherent=cos).covering().values_list("start_date", "end_date"))
    conventions = defaultdict(list)
    for employer_id, start, end in Convention.objects.filter(cos=cos).values_list("employer_id", "start_date",
                                                                                  "end_date"):
        for agent_id, e_start, e_end in Employment.objects.filter(employer_id=employer_id, agent_id__in=agents
                                                                  ).values_list("agent_id", "start_date",
                                                                                "end_date"):
            hole = _clip((start, end or datetime.date(9999, 12, 30)), (e_start, e_end or datetime.date(9999, 12, 30)))
            if hole:
                conventions[agent_id].append(hole)
    coverage, basis = {}, {}
    for agent_id in agents:
        rule = {"memberships": memberships.get(agent_id, []), "fees": fees.get(agent_id, set()),
                "settings": settings, "conventions": conventions.get(agent_id, []), "today": today}
        coverage[agent_id] = _as_periods(member_periods(adhesions=adhesions, **rule))
        basis[agent_id] = _as_periods(member_periods(adhesions=[(datetime.date.min, None)], **rule))
    replace_rows(BasisPeriod, adherent=cos, wanted=basis, sources=[SOURCE])
    return len(replace_rows(Coverage, adherent=cos, wanted=coverage, sources=[SOURCE]))


def _as_periods(intervals: list[Interval]) -> list[tuple]:
    """Closed intervals (9999: open) as the half-open periods of Coverage rows."""
    return [(start, None if end.year == 9999 else end + DAY, SOURCE) for start, end in intervals]


def recompute_for_adherent(adherent: Adherent) -> int:
    """Registered with adhesions.coverage: a change of a COS's adhesions recomputes its members."""
    return sync_cos_coverage(cos=adherent) if adherent.is_cos else 0
