"""Coverage derived from the roster and the adhesions.

An employer covers its agents while they work there and it adheres, and its retired
agents where the adhesion covers them. Those rows (sources "employment" and
"retirement") are recomputed from the data they come from, never edited by hand, so the
roster, the adhesions and the coverage never disagree. Set-based: one sync handles
thousands of agents in a few queries.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.backends.postgresql.psycopg_any import DateRange

from adhesions.models import Adherent, Adhesion, Coverage, Employment

DAY = datetime.timedelta(days=1)
DERIVED = (Coverage.Source.EMPLOYMENT, Coverage.Source.RETIREMENT)

Period = tuple[datetime.date, datetime.date | None, str]  # [start, upper), source


def _upper(end: datetime.date | None) -> datetime.date | None:
    return end + DAY if end else None


def _min_upper(a: datetime.date | None, b: datetime.date | None) -> datetime.date | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def _before(start: datetime.date, upper: datetime.date | None) -> bool:
    return upper is None or start < upper


def desired_periods(*, employments: Iterable[tuple], adhesions: Iterable[tuple], retired: bool) -> list[Period]:
    """employments: (start, end, end_reason); adhesions: (start, end, covers_retired)."""
    adhesions = list(adhesions)
    periods: list[Period] = []
    for start, end, reason in employments:
        for a_start, a_end, covers_retired in adhesions:
            lower, upper = max(start, a_start), _min_upper(_upper(end), _upper(a_end))
            if _before(lower, upper):
                periods.append((lower, upper, Coverage.Source.EMPLOYMENT))
            if retired and reason == Employment.EndReason.RETIREMENT and end and covers_retired:
                lower, upper = max(end + DAY, a_start), _upper(a_end)
                if _before(lower, upper):
                    periods.append((lower, upper, Coverage.Source.RETIREMENT))
    return _merge(periods)


def _merge(periods: list[Period]) -> list[Period]:
    """Sorted, with adjacent periods of one source joined and no two periods overlapping."""
    merged: list[Period] = []
    for lower, upper, source in sorted(periods, key=lambda p: (p[0], p[2])):
        if merged:
            p_lower, p_upper, p_source = merged[-1]
            if p_upper is None:
                continue  # an open period already covers everything after it
            if lower <= p_upper:
                if p_source == source:
                    merged[-1] = (p_lower, None if upper is None else max(upper, p_upper), source)
                    continue
                lower = p_upper  # another source starts where the previous one ends
                if not _before(lower, upper):
                    continue
        merged.append((lower, upper, source))
    return merged


def sync_coverage(*, employer: Adherent, agent_ids: Iterable[int]) -> int:
    """Bring the derived coverage of these agents by ``employer`` in line with the roster
    and the adhesions; return how many agents' coverage changed. Call it in a transaction."""
    agent_ids = list(set(agent_ids))
    if not agent_ids:
        return 0
    adhesions = list(
        Adhesion.objects.filter(adherent=employer, status=Adhesion.Status.ACTIVE)
        .values_list("start_date", "end_date", "covers_retired")
    )
    employments = defaultdict(list)
    retired = {}
    rows = (Employment.objects.filter(employer=employer, agent_id__in=agent_ids)
            .values_list("agent_id", "start_date", "end_date", "end_reason", "agent__status"))
    for agent_id, start, end, reason, status in rows:
        employments[agent_id].append((start, end, reason))
        retired[agent_id] = status == "retired"
    existing = defaultdict(set)
    for agent_id, period, source in (Coverage.objects.filter(adherent=employer, agent_id__in=agent_ids,
                                                             source__in=DERIVED)
                                     .values_list("agent_id", "period", "source")):
        existing[agent_id].add((period.lower, period.upper, source))
    changed, new_rows = [], []
    for agent_id in agent_ids:
        wanted = desired_periods(employments=employments.get(agent_id, []), adhesions=adhesions,
                                 retired=retired.get(agent_id, False))
        if set(wanted) != existing.get(agent_id, set()):
            changed.append(agent_id)
            new_rows.extend(
                Coverage(agent_id=agent_id, adherent=employer, source=source,
                         period=DateRange(lower, upper, "[)"))
                for lower, upper, source in wanted
            )
    if changed:
        Coverage.objects.filter(adherent=employer, agent_id__in=changed, source__in=DERIVED).delete()
        Coverage.objects.bulk_create(new_rows, batch_size=5000)
    return len(changed)


def sync_adherent_coverage(*, employer: Adherent) -> int:
    """After a change of adhesion: every agent ever on this employer's roster."""
    agent_ids = Employment.objects.filter(employer=employer).values_list("agent_id", flat=True)
    return sync_coverage(employer=employer, agent_ids=agent_ids)
