"""Coverage derived from the roster and the adhesions.

An employer covers its agents while they work there and it adheres, and its retired
agents where the adhesion covers them. An agent who leaves (other than by death) stays
covered until 31 December of the year he leaves, unless another member employer covers
him before (its employment coverage then takes over); the employer is not charged for
that extension. Those rows (sources "employment", "retirement", "extension") are
recomputed from the data they come from, never edited by hand, so the roster, the
adhesions and the coverage never disagree.

Beside the coverage, the same functions derive the *basis* of the contribution
(``BasisPeriod``): the employment and retirement periods themselves, not cut by the
adhesion's dates, since the contribution is the year's figure times the months of
adhesion over 12 (pro-rating happens once, see ``adhesions.computation``).

Set-based: one sync handles thousands of agents in a few queries.
"""

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db.backends.postgresql.psycopg_any import DateRange

from adhesions.models import Adherent, Adhesion, BasisPeriod, Coverage, Employment
from adhesions.selectors import roster_changed

DAY = datetime.timedelta(days=1)
DERIVED = (Coverage.Source.EMPLOYMENT, Coverage.Source.RETIREMENT, Coverage.Source.EXTENSION)
BASIS = (Coverage.Source.EMPLOYMENT, Coverage.Source.RETIREMENT)
ALWAYS = [(datetime.date.min, None, True)]  # an adhesion that never ends, for the basis

Period = tuple[datetime.date, datetime.date | None, str]  # [start, upper), source
Span = tuple[datetime.date, datetime.date | None]  # [start, upper)


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


def subtract(spans: list[Span], holes: Iterable[Span]) -> list[Span]:
    """The parts of ``spans`` outside every hole (half-open spans, None: no end)."""
    result = list(spans)
    for h_lower, h_upper in holes:
        kept = []
        for lower, upper in result:
            if not (_before(lower, h_upper) and _before(h_lower, upper)):
                kept.append((lower, upper))  # no overlap
                continue
            if lower < h_lower:
                kept.append((lower, h_lower))
            if h_upper is not None and _before(h_upper, upper):
                kept.append((h_upper, upper))
        result = kept
    return result


def extension_periods(*, employments: Iterable[tuple], adhesions: Iterable[tuple], covered: Iterable[Span],
                      elsewhere: Iterable[Span]) -> list[Period]:
    """After each departure other than by death, made while the employer adhered: until 31
    December of that year, while the employer adheres, where the agent is covered neither by
    this employer (``covered``: he came back, or retired with retired staff covered) nor by
    another employer's employment (``elsewhere``: he joined another member employer, which
    covers him from then)."""
    adhesions, elsewhere = list(adhesions), list(elsewhere)
    spans: list[Span] = []
    for _start, end, reason in employments:
        if end is None or reason == Employment.EndReason.DEATH:
            continue
        if not any(a_start <= end and (a_end is None or end <= a_end) for a_start, a_end, _r in adhesions):
            continue  # he left while the employer was not a member: nothing to extend
        lower, upper = end + DAY, datetime.date(end.year + 1, 1, 1)
        # from the day another member employer covers him, the extension is over for good
        for o_lower, o_upper in elsewhere:
            if _before(o_lower, upper) and _before(lower, o_upper):
                upper = max(lower, o_lower)
        for a_start, a_end, _covers_retired in adhesions:
            piece = (max(lower, a_start), _min_upper(upper, _upper(a_end)))
            if _before(*piece):
                spans.append(piece)
    return [(lower, upper, Coverage.Source.EXTENSION) for lower, upper in subtract(spans, covered)]


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


def replace_rows(model, *, adherent: Adherent, wanted: dict[int, list[Period]], sources: Iterable[str]) -> list[int]:
    """Make the rows of ``model`` (Coverage or BasisPeriod) of these sources for this adherent
    equal ``wanted`` (agent id -> periods); rows of agents whose periods are already right
    are left alone. Return the agents whose rows changed."""
    sources = list(sources)
    existing = defaultdict(set)
    for agent_id, period, source in (model.objects.filter(adherent=adherent, agent_id__in=list(wanted),
                                                          source__in=sources)
                                     .values_list("agent_id", "period", "source")):
        existing[agent_id].add((period.lower, period.upper, source))
    changed, rows = [], []
    for agent_id, periods in wanted.items():
        if set(periods) != existing.get(agent_id, set()):
            changed.append(agent_id)
            rows.extend(model(agent_id=agent_id, adherent=adherent, source=source,
                              period=DateRange(lower, upper, "[)")) for lower, upper, source in periods)
    if changed:
        model.objects.filter(adherent=adherent, agent_id__in=changed, source__in=sources).delete()
        model.objects.bulk_create(rows, batch_size=5000)
        roster_changed(adherent.pk)  # the roster shows who is covered
    return changed


def sync_coverage(*, employer: Adherent, agent_ids: Iterable[int], cascade: bool = True) -> int:
    """Bring the derived coverage (and the basis of the contribution) of these agents by
    ``employer`` in line with the roster and the adhesions; return how many agents' coverage
    changed. When an agent's employment coverage changes, the extensions other employers give
    him after he left them are recomputed too (``cascade``). Call it in a transaction."""
    agent_ids = list(set(agent_ids))
    if not agent_ids:
        return 0
    adhesions = list(Adhesion.objects.filter(adherent=employer).covering()
                     .values_list("start_date", "end_date", "covers_retired"))
    employments = defaultdict(list)
    retired = {}
    rows = (Employment.objects.filter(employer=employer, agent_id__in=agent_ids)
            .values_list("agent_id", "start_date", "end_date", "end_reason", "agent__status"))
    for agent_id, start, end, reason, status in rows:
        employments[agent_id].append((start, end, reason))
        retired[agent_id] = status == "retired"
    elsewhere = defaultdict(list)
    left = [agent_id for agent_id, lines in employments.items() if any(end for _s, end, _r in lines)]
    for agent_id, period in (Coverage.objects.filter(agent_id__in=left, source=Coverage.Source.EMPLOYMENT)
                             .exclude(adherent=employer).values_list("agent_id", "period")):
        elsewhere[agent_id].append((period.lower, period.upper))
    coverage, basis = {}, {}
    for agent_id in agent_ids:
        lines, is_retired = employments.get(agent_id, []), retired.get(agent_id, False)
        own = desired_periods(employments=lines, adhesions=adhesions, retired=is_retired)
        extension = extension_periods(employments=lines, adhesions=adhesions, covered=[(p[0], p[1]) for p in own],
                                      elsewhere=elsewhere.get(agent_id, []))
        coverage[agent_id] = _merge(own + extension)
        basis[agent_id] = desired_periods(employments=lines, adhesions=ALWAYS, retired=is_retired)
    replace_rows(BasisPeriod, adherent=employer, wanted=basis, sources=BASIS)
    changed = replace_rows(Coverage, adherent=employer, wanted=coverage, sources=DERIVED)
    if cascade and changed:
        _resync_extensions_elsewhere(employer=employer, agent_ids=changed)
    return len(changed)


def _resync_extensions_elsewhere(*, employer: Adherent, agent_ids: list[int]) -> None:
    """Another employer's extension of an agent who left it stops where this employer's
    coverage of him starts: recompute it (the extension depends on no one's extension, so
    one level is enough)."""
    others = defaultdict(set)
    for employer_id, agent_id in (Employment.objects.filter(agent_id__in=agent_ids, end_date__isnull=False)
                                  .exclude(employer=employer).values_list("employer_id", "agent_id")):
        others[employer_id].add(agent_id)
    for other in Adherent.objects.filter(pk__in=list(others)):
        sync_coverage(employer=other, agent_ids=others[other.pk], cascade=False)


def sync_adherent_coverage(*, employer: Adherent) -> int:
    """After a change of adhesion: every agent ever on this employer's roster."""
    agent_ids = Employment.objects.filter(employer=employer).values_list("agent_id", flat=True)
    return sync_coverage(employer=employer, agent_ids=agent_ids)


# Apps on the right (the COS) derive coverage of their own from an adherent's adhesions; they
# register here so that a change of adhesion recomputes it without adhesions importing them.
_DERIVERS: list[Callable[[Adherent], int]] = []


def register_deriver(deriver: Callable[[Adherent], int]) -> None:
    if deriver not in _DERIVERS:
        _DERIVERS.append(deriver)


def recompute_adherent(*, adherent: Adherent) -> int:
    """Every coverage that depends on this adherent's adhesions, at once (in a transaction)."""
    changed = 0 if adherent.is_cos else sync_adherent_coverage(employer=adherent)
    for deriver in _DERIVERS:
        changed += deriver(adherent)
    return changed
