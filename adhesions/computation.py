"""The contribution arithmetic, in one SQL statement for every adherent at once.

For year Y and its scale (see the README for a worked example). One rule counts months
everywhere: **a month of Y counts when its first day falls in the period.**

- months: the months of Y whose first day falls in one of the adherent's adhesions (active,
  or suspended or ended up to their end date): an adhesion from 1 December gives 1, from 15
  November too, one ending on 30 June gives 6.
- headcounts, for the whole year, from the basis of the contribution (``BasisPeriod``: the
  employment, retirement and membership periods themselves, not cut by the adhesion's dates):
  each agent counts the months of Y whose first day falls in one of his periods, over 12
  (arriving on 1 September: 4/12, on 15 September: 3/12, on 31 December: 0; leaving on 30 April
  and coming back on 1 September: 8/12). An agent's periods for an adherent never overlap
  (an exclusion constraint), so he never counts more than 12/12 for it. Working agents come
  from employment periods, retired ones from retirement periods, a COS's members from their
  membership. The extension of coverage after a departure is not counted.
- employers (collectivities, public bodies), for the whole year:
  - payroll mode: payroll of Y-1 (latest declaration) x rate, kept between floor and
    ceiling per working agent (no declaration: payroll 0, so the floor applies);
  - per-agent mode: flat amount x working agents;
  - plus, where the adhesion covers retired staff, the retired flat amount x retired agents.
- COS: flat amount per covered agent x members.
- amount = the whole year's figure x months / 12 (pro-rated once, by the adhesion), computed
  in twelfths so that it stays exact, and rounded half-up to the cent once, at the end.

The same SELECT serves the campaign (INSERT … SELECT, one statement for all calls), the
dry run (totals), the regularisation of one adherent, the contributions page, and the
benchmark's floor.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from adhesions.models import ContributionScale

COMPUTATION_SQL = """
WITH params AS (
    SELECT %(year)s::int AS year, make_date(%(year)s::int, 1, 1) AS jan1, make_date(%(year)s::int, 12, 31) AS dec31
),
adhesion_months AS MATERIALIZED (
    SELECT a.adherent_id,
           LEAST(12, SUM({adhesion_months}))::int AS months,
           bool_or(a.covers_retired) AS covers_retired
    FROM adhesions_adhesion a, params p
    WHERE a.status IN ('active', 'suspended', 'ended')
      AND a.start_date <= p.dec31 AND (a.end_date IS NULL OR a.end_date >= p.jan1)
    {adherent_filter_a}
    GROUP BY a.adherent_id
),
heads AS MATERIALIZED (
    -- in twelfths of an agent (months), so that the arithmetic stays exact until the one rounding
    SELECT b.adherent_id,
           SUM(n.months) FILTER (WHERE b.source = 'employment') AS working12,
           SUM(n.months) FILTER (WHERE b.source = 'retirement') AS retired12,
           SUM(n.months) FILTER (WHERE b.source = 'cos_membership') AS covered12
    FROM adhesions_basisperiod b
    CROSS JOIN params p
    CROSS JOIN LATERAL (SELECT {basis_months} AS months) n
    WHERE b.period && daterange(p.jan1, p.dec31, '[]')
      {adherent_filter_c}
    GROUP BY b.adherent_id
),
payroll AS (
    SELECT DISTINCT ON (d.adherent_id) d.adherent_id, d.gross_payroll
    FROM adhesions_payrolldeclaration d, params p
    WHERE d.year = p.year - 1 {adherent_filter_d}
    ORDER BY d.adherent_id, d.declared_at DESC, d.id DESC
),
base AS (
    SELECT ad.id AS adherent_id, ad.kind, m.months, m.covers_retired,
           COALESCE(h.working12, 0) AS working12, COALESCE(h.retired12, 0) AS retired12,
           COALESCE(h.covered12, 0) AS covered12, pr.gross_payroll AS payroll,
           COALESCE(pr.gross_payroll, 0) * %(rate)s::numeric / 100 * 12 AS payroll12,
           %(floor)s::numeric * COALESCE(h.working12, 0) AS floor12,
           %(ceiling)s::numeric * COALESCE(h.working12, 0) AS ceiling12
    FROM adhesion_months m
    JOIN adhesions_adherent ad ON ad.id = m.adherent_id
    LEFT JOIN heads h ON h.adherent_id = m.adherent_id
    LEFT JOIN payroll pr ON pr.adherent_id = m.adherent_id
    WHERE m.months > 0
),
parts AS (
    SELECT b.*,
           CASE
               WHEN b.kind = 'cos' THEN %(cos)s::numeric * b.covered12
               WHEN %(mode)s::text = 'per_agent' THEN %(flat)s::numeric * b.working12
               WHEN b.ceiling12 IS NULL THEN GREATEST(b.payroll12, b.floor12)
               ELSE LEAST(GREATEST(b.payroll12, b.floor12), b.ceiling12)
           END AS agents12,
           CASE WHEN b.kind <> 'cos' AND b.covers_retired THEN %(retired_flat)s::numeric * b.retired12 ELSE 0 END
               AS retired_part12,
           CASE
               WHEN b.kind = 'cos' OR %(mode)s::text = 'per_agent' THEN ''
               WHEN b.payroll12 < b.floor12 THEN 'plancher'
               WHEN b.ceiling12 IS NOT NULL AND b.payroll12 > b.ceiling12 THEN 'plafond'
               ELSE ''
           END AS bound
    FROM base b
)
SELECT adherent_id, kind, months, payroll, working12 / 12.0 AS working, retired12 / 12.0 AS retired,
       covered12 / 12.0 AS covered, bound, agents12 / 12 AS agents_part, retired_part12 / 12 AS retired_part,
       round((agents12 + retired_part12) * months / 144, 2) AS amount
FROM parts
"""

COLUMNS = ["adherent_id", "kind", "months", "payroll", "working", "retired", "covered", "bound", "agents_part",
           "retired_part", "amount"]


def months_in_year(first_day: str, last_day: str) -> str:
    """SQL: how many months of the year ``params.year`` have their first day in the closed
    interval [first_day, last_day] (last_day NULL: no end). Periods that do not overlap give
    disjoint months, so their counts add up to the count of their union."""
    first_month = (f"CASE WHEN {first_day} <= p.jan1 THEN 1 "
                   f"ELSE EXTRACT(MONTH FROM {first_day})::int + (EXTRACT(DAY FROM {first_day}) > 1)::int END")
    last_month = (f"CASE WHEN {last_day} IS NULL OR {last_day} >= p.dec31 THEN 12 "
                  f"ELSE EXTRACT(MONTH FROM {last_day})::int END")
    return f"GREATEST(0, ({last_month}) - ({first_month}) + 1)"


def computation_sql(*, one_adherent: bool = False) -> str:
    return COMPUTATION_SQL.format(
        adhesion_months=months_in_year("a.start_date", "a.end_date"),
        basis_months=months_in_year("lower(b.period)", "(upper(b.period) - 1)"),
        adherent_filter_a="AND a.adherent_id = %(adherent)s::bigint" if one_adherent else "",
        adherent_filter_d="AND d.adherent_id = %(adherent)s::bigint" if one_adherent else "",
        adherent_filter_c="AND b.adherent_id = %(adherent)s::bigint" if one_adherent else "",
    )


def scale_params(scale: ContributionScale, *, adherent_id: int | None = None) -> dict:
    return {
        "year": scale.year, "rate": scale.payroll_rate, "floor": scale.floor_per_agent,
        "ceiling": scale.ceiling_per_agent, "flat": scale.flat_per_agent, "cos": scale.cos_per_agent,
        "retired_flat": scale.retired_flat, "mode": scale.employer_mode, "adherent": adherent_id,
    }


@dataclass(frozen=True)
class Computed:
    adherent_id: int
    kind: str
    months: int
    payroll: Decimal | None
    working: Decimal
    retired: Decimal
    covered: Decimal
    bound: str
    agents_part: Decimal
    retired_part: Decimal
    amount: Decimal


def compute(scale: ContributionScale, *, adherent_id: int | None = None) -> list[Computed]:
    """What every adherent (or one) owes for the scale's year, as of now."""
    with connection.cursor() as cursor:
        cursor.execute(computation_sql(one_adherent=adherent_id is not None),
                       scale_params(scale, adherent_id=adherent_id))
        return [Computed(*row) for row in cursor.fetchall()]


def compute_one(scale: ContributionScale, *, adherent_id: int) -> Computed | None:
    """What one adherent owes for the scale's year with today's data (None: no month of
    adhesion that year). The regularisation and the contributions page ask this."""
    return next(iter(compute(scale, adherent_id=adherent_id)), None)


INSERT_SQL = """
INSERT INTO adhesions_contributioncall
    (adherent_id, year, kind, campaign_id, reference, payroll, payroll_year, working_agents, retired_agents,
     covered_agents, months, bound, amount, details, issued_at, due_date, pdf, render_count)
SELECT c.adherent_id, %(year)s::int, 'initial', %(campaign)s::bigint,
       'C' || %(year)s::int || '-' || lpad(c.adherent_id::text, 6, '0'),
       c.payroll, CASE WHEN c.kind = 'cos' THEN NULL ELSE %(year)s::int - 1 END, c.working, c.retired, c.covered,
       c.months, c.bound, c.amount,
       jsonb_build_object('agents_part', round(c.agents_part, 2)::text, 'retired_part', round(c.retired_part, 2)::text,
                          'kind', c.kind),
       (%(issued_on)s::date + time '12:00') AT TIME ZONE 'Europe/Paris',
       GREATEST(%(due_date)s::date, %(issued_on)s::date + 30), '', 0
FROM ({computation}) c
ON CONFLICT (adherent_id, year) WHERE kind = 'initial' DO NOTHING
"""


def insert_calls(scale: ContributionScale, *, campaign_id: int, issued_on: datetime.date) -> int:
    """Issue every initial call of the year not issued yet, in one statement; return how
    many were inserted. A call already issued is never touched. A call issued late (an
    adherent that joined during the year) is due 30 days after its issue at the earliest."""
    with connection.cursor() as cursor:
        cursor.execute(INSERT_SQL.format(computation=computation_sql()),
                       {**scale_params(scale), "campaign": campaign_id, "due_date": scale.due_date,
                        "issued_on": issued_on})
        return cursor.rowcount


def totals_by_kind(scale: ContributionScale) -> dict[str, tuple[int, Decimal]]:
    totals: dict[str, tuple[int, Decimal]] = {}
    for row in compute(scale):
        count, amount = totals.get(row.kind, (0, Decimal("0")))
        totals[row.kind] = (count + 1, amount + row.amount)
    return totals
