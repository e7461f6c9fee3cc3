"""The COS of the demo worlds: the employers they serve, their members (two working agents in
three of those employers), fees paid every year, and the coverage that follows — the same
periods `cos.coverage.sync_cos_coverage` computes, written in bulk."""

import datetime
from decimal import Decimal

from django.db import connection

from adhesions.demo import AdherentSpec
from adhesions.models import Adherent
from cnas import bulk
from cos.models import CosEmployer, CosSettings

FEE = Decimal("25.00")


MEMBER_TABLES = ("cos_cosmember", "cos_memberfee", "adhesions_coverage", "adhesions_basisperiod")


def populate_members(*, adherents: list[Adherent], specs: list[AdherentSpec], first: int, last: int,
                     today: datetime.date) -> None:
    by_name = {a.name: a for a in adherents}
    pairs = [(by_name[s.name].pk, by_name[served].pk) for s in specs for served in s.cos_serves]
    CosEmployer.objects.bulk_create([CosEmployer(cos_id=c, employer_id=e) for c, e in pairs],
                                    ignore_conflicts=True, batch_size=5000)
    CosSettings.objects.bulk_create([CosSettings(cos_id=c, fee_amount=FEE) for c in {c for c, _ in pairs}],
                                    ignore_conflicts=True, batch_size=5000)
    params = {"cos_ids": [c for c, _ in pairs], "served_ids": [e for _, e in pairs], "first": first, "last": last,
              "year": today.year, "fee": FEE}
    with connection.cursor() as cursor:
        bulk.execute(cursor, "ANALYZE adhesions_employment, adhesions_adhesion")  # rows of this transaction
        bulk.execute(cursor, """
            INSERT INTO cos_cosmember (cos_id, agent_id, joined_on, left_on, left_reason)
            SELECT DISTINCT ON (c.cos_id, e.agent_id) c.cos_id, e.agent_id, GREATEST(e.start_date, ad.start_date),
                   NULL::date, ''
            FROM unnest(%(cos_ids)s::bigint[], %(served_ids)s::bigint[]) AS c(cos_id, served_id)
            JOIN adhesions_adhesion ad ON ad.adherent_id = c.cos_id AND ad.status = 'active'
            JOIN adhesions_employment e ON e.employer_id = c.served_id AND e.end_date IS NULL
            WHERE e.agent_id BETWEEN %(first)s AND %(last)s AND random() < 0.66""", params)
        bulk.execute(cursor, "ANALYZE cos_cosmember")
        bulk.execute(cursor, """
            INSERT INTO cos_memberfee (member_id, year, amount, paid_on, means, recorded_by_id)
            SELECT m.id, y, %(fee)s::numeric, GREATEST(m.joined_on, make_date(y, 2, 15)), 'payroll', NULL
            FROM cos_cosmember m
            CROSS JOIN LATERAL generate_series(EXTRACT(YEAR FROM m.joined_on)::int, %(year)s::int) AS y
            WHERE m.agent_id BETWEEN %(first)s AND %(last)s""", params)
        # fees paid every year up to this one: covered from joining to next year's deadline (31 March)
        bulk.execute(cursor, """
            INSERT INTO adhesions_coverage (agent_id, adherent_id, period, source, created_at)
            SELECT m.agent_id, m.cos_id, daterange(m.joined_on, make_date(%(year)s::int + 1, 3, 31) + 1, '[)'),
                   'cos_membership', now()
            FROM cos_cosmember m WHERE m.agent_id BETWEEN %(first)s AND %(last)s""", params)
        # the basis of the COS's contribution: the same periods (members joined once it adhered)
        bulk.execute(cursor, """
            INSERT INTO adhesions_basisperiod (agent_id, adherent_id, period, source)
            SELECT agent_id, adherent_id, period, source FROM adhesions_coverage
            WHERE source = 'cos_membership' AND agent_id BETWEEN %(first)s AND %(last)s""", params)


def seed_local_actions(*, today: datetime.date) -> None:
    """The COS de Saint-Aubin publishes its Christmas tree; the demo agent's children may come."""
    from django.utils import timezone

    from cos.models import LocalAction

    cos = Adherent.objects.filter(name="COS de Saint-Aubin-sur-Loire").first()
    if cos is None:
        return
    day = datetime.date(today.year, 12, 19) if today < datetime.date(today.year, 12, 10) else \
        today + datetime.timedelta(days=21)
    LocalAction.objects.get_or_create(cos=cos, title="Arbre de Noël des enfants", defaults={
        "description": "Spectacle de magie, goûter et visite du Père Noël pour les enfants des membres.",
        "starts_at": timezone.make_aware(datetime.datetime.combine(day, datetime.time(14, 30))),
        "place": "Salle des fêtes de Saint-Aubin-sur-Loire", "capacity": 120, "price_adult": Decimal("5.00"),
        "price_child": Decimal("0.00"), "registration_deadline": day - datetime.timedelta(days=7),
        "is_published": True})
