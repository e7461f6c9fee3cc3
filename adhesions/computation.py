"""The contribution arithmetic, in one SQL statement for every adherent at once.

For year Y and its scale (see the README for a worked example):

- months: whole months of adhesion in Y (a month counts when the adhesion covers it from
  its first day to its last; an adhesion starting on 1 December gives 1 month).
- headcounts, from Coverage: each agent covered on 1 January counts 1; an agent whose
  coverage starts later in Y counts the whole months left from then to December, over 12
  (arriving on 1 December: 1/12; on 31 December: 0). Working agents come from coverage of
  source "employment", retired ones from "retirement", a COS's members from
  "cos_membership".
- employers (collectivities, public bodies):
  - payroll mode: payroll of Y-1 (latest declaration) x rate, kept between floor and
    ceiling per working agent (no declaration: payroll 0, so the floor applies);
  - per-agent mode: flat amount x working agents;
  - plus, where the adhesion covers retired staff, the retired flat amount x retired agents.
- COS: flat amount per covered agent x members.
- amount = (the above) x months / 12, rounded half-up to the cent once, at the end.

The same SELECT serves the campaign (INSERT … SELECT, one statement for all calls), the
dry run (totals), the regularisation of one adherent, and the benchmark's floor.
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
           LEAST(12, SUM(GREATEST(0,
               (EXTRACT(MONTH FROM LEAST(COALESCE(a.end_date, p.dec31), p.dec31))::int
                 - CASE WHEN LEAST(COALESCE(a.end_date, p.dec31), p.dec31)
                             = (date_trunc('month', LEAST(COALESCE(a.end_date, p.dec31), p.dec31))
                                + interval '1 month - 1 day')::date THEN 0 ELSE 1 END)
             - (EXTRACT(MONTH FROM GREATEST(a.start_date, p.jan1))::int
                 + CASE WHEN EXTRACT(DAY FROM GREATEST(a.start_date, p.jan1)) = 1 THEN 0 ELSE 1 END)
             + 1)))::int AS months,
           bool_or(a.covers_retired) AS covers_retired
    FROM adhesions_adhesion a, params p
    WHERE a.status = 'active' AND a.start_date <= p.dec31 AND (a.end_date IS NULL OR a.end_date >= p.jan1)
    {adherent_filter_a}
    GROUP BY a.adherent_id
),
heads AS MATERIALIZED (
    -- in twelfths of an agent, so that the arithmetic stays exact until the one rounding
    SELECT c.adherent_id,
           SUM(w.twelfths) FILTER (WHERE c.source = 'employment') AS working12,
           SUM(w.twelfths) FILTER (WHERE c.source = 'retirement') AS retired12,
           SUM(w.twelfths) FILTER (WHERE c.source = 'cos_membership') AS covered12
    FROM adhesions_coverage c
    CROSS JOIN params p
    CROSS JOIN LATERAL (SELECT CASE
        WHEN lower(c.period) <= p.jan1 THEN 12
        ELSE GREATEST(0, 12 - EXTRACT(MONTH FROM lower(c.period))::int
                         + CASE WHEN EXTRACT(DAY FROM lower(c.period)) = 1 THEN 1 ELSE 0 END)
        END AS twelfths) w
    WHERE c.period && daterange(p.jan1, p.dec31, '[]')
      AND (lower(c.period) > p.jan1 OR c.period @> p.jan1)
      {adherent_filter_c}
    GROUP BY c.adherent_id
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


def computation_sql(*, one_adherent: bool = False) -> str:
    return COMPUTATION_SQL.format(
        adherent_filter_a="AND a.adherent_id = %(adherent)s::bigint" if one_adherent else "",
        adherent_filter_d="AND d.adherent_id = %(adherent)s::bigint" if one_adherent else "",
        adherent_filter_c="AND c.adherent_id = %(adherent)s::bigint" if one_adherent else "",
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


INSERT_SQL = """
INSERT INTO adhesions_contributioncall
    (adherent_id, year, kind, campaign_id, reference, payroll, payroll_year, working_agents, retired_agents,
     covered_agents, months, bound, amount, details, issued_at, due_date, pdf, render_count)
SELECT c.adherent_id, %(year)s::int, 'initial', %(campaign)s::bigint,
       'C' || %(year)s::int || '-' || lpad(c.adherent_id::text, 6, '0'),
       c.payroll, CASE WHEN c.kind = 'cos' THEN NULL ELSE %(year)s::int - 1 END, c.working, c.retired, c.covered,
       c.months, c.bound, c.amount,
       jsonb_build_object('agents_part', round(c.agents_part, 2), 'retired_part', round(c.retired_part, 2),
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
