"""The staff dashboard's figures, for one region or the whole country. The worker computes them
(beat, every ten minutes; staff may ask for a fresh count) into one ``IndicatorSnapshot`` row per
scope, which the admin's home page reads: a page view never scans millions of requests."""

import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from adhesions.models import Adherent, ContributionCall, Payment, Region, RosterImport
from adhesions.selectors import arrears
from prestations.models import Demande, IndicatorSnapshot, Prestation, PrestationDelays

S = Demande.Status
AGE_BUCKETS = [(0, 7, _("0 à 7 jours")), (8, 15, _("8 à 15 jours")), (16, 30, _("16 à 30 jours")),
               (31, None, _("plus de 30 jours"))]


def _money(value) -> str:
    return str((value or Decimal("0")).quantize(Decimal("0.01")))


def _decision_days(region_id: int | None, since: datetime.datetime) -> tuple[float | None, float | None]:
    """Median and 90th percentile of the days to decide, the time waiting on the agent left out."""
    region_sql = "AND region_id = %(region)s" if region_id is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(f"""
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.9) WITHIN GROUP (ORDER BY d)
            FROM (SELECT EXTRACT(EPOCH FROM (decided_at - submitted_at - agent_wait)) / 86400.0 AS d
                  FROM prestations_demande
                  WHERE decided_at >= %(since)s AND submitted_at IS NOT NULL {region_sql}) t
        """, {"since": since, "region": region_id})  # noqa: S608 - the only interpolation is a fixed clause
        median, p90 = cursor.fetchone()
    return (round(float(median), 1) if median is not None else None,
            round(float(p90), 1) if p90 is not None else None)


def compute(*, region_id: int | None, now: datetime.datetime | None = None) -> dict:
    now = now or timezone.now()
    today = timezone.localdate(now)
    demandes = Demande.objects.all() if region_id is None else Demande.objects.filter(region_id=region_id)
    adherents = Adherent.objects.all() if region_id is None else Adherent.objects.filter(region_id=region_id)
    open_ = demandes.filter(status__in=Demande.OPEN, submitted_at__isnull=False)
    by_status = dict(open_.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    ages = []
    for low, high, label in AGE_BUCKETS:
        window = Q(submitted_at__lte=now - datetime.timedelta(days=low))
        if high is not None:
            window &= Q(submitted_at__gt=now - datetime.timedelta(days=high + 1))
        ages.append({"label": str(label), "count": open_.filter(window).count()})
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = midnight - datetime.timedelta(days=today.weekday())
    month_start = midnight.replace(day=1)
    decided = demandes.filter(status__in=[S.ACCEPTED, S.REFUSED, S.PAID])
    median, p90 = _decision_days(region_id, now - datetime.timedelta(days=90))
    year_ago = (today.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    paid = (demandes.filter(status=S.PAID, paid_at__date__gte=year_ago)
            .annotate(month=TruncMonth("paid_at")).values("prestation__name", "month")
            .annotate(total=Sum("amount_granted"), n=Count("id")).order_by("month", "prestation__name"))
    calls = ContributionCall.objects.filter(year=today.year, adherent__in=adherents)
    called = calls.aggregate(total=Sum("amount"))["total"] or Decimal("0")
    received = Payment.objects.filter(call__in=calls).aggregate(total=Sum("amount"))["total"] or Decimal("0")
    late = arrears(adherent_ids=adherents.values("pk"), day=today)
    imports = RosterImport.objects.filter(created_at__gte=now - datetime.timedelta(days=30),
                                          status__in=[RosterImport.Status.FAILED])
    if region_id is not None:
        imports = imports.filter(adherent__region_id=region_id)
    figures = {
        "open_total": sum(by_status.values()),
        "open_by_status": [{"status": str(S(status).label), "count": by_status.get(status, 0)}
                           for status in Demande.OPEN],
        "open_by_age": ages,
        "decided_week": decided.filter(decided_at__gte=week_start).count(),
        "decided_month": decided.filter(decided_at__gte=month_start).count(),
        "accepted_month_amount": _money(decided.filter(decided_at__gte=month_start, status__in=Demande.GRANTED)
                                        .aggregate(total=Sum("amount_granted"))["total"]),
        "median_days": median, "p90_days": p90,
        "paid_by_month": [{"prestation": row["prestation__name"], "month": row["month"].strftime("%m/%Y"),
                           "total": _money(row["total"]), "count": row["n"]} for row in paid],
        "collection": {"year": today.year, "called": _money(called), "received": _money(received),
                       "rate": round(float(100 * received / called), 1) if called else None},
        "arrears": len(late),
        "failed_imports": imports.count(),
    }
    if region_id is None:
        from cnas.models import OutboxItem

        figures["failed_tasks"] = OutboxItem.objects.filter(failed_at__isnull=False, completed_at__isnull=True).count()
    return figures


DELAY_WINDOW_DAYS = 90


def refresh_delays(*, now: datetime.datetime | None = None) -> int:
    """Every prestation's median and 90th percentile of the days to decide over the last 90 days (the
    agent's waits left out), in one grouped query: what its page shows. Returns the rows written."""
    now = now or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT prestation_id, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d),
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY d)
            FROM (SELECT prestation_id,
                         GREATEST(0, EXTRACT(EPOCH FROM (decided_at - submitted_at - agent_wait)) / 86400.0) AS d
                  FROM prestations_demande
                  WHERE decided_at >= %(since)s AND decided_at <= %(now)s AND submitted_at IS NOT NULL
                    AND status = ANY(%(decided)s)) t
            GROUP BY prestation_id
        """, {"since": now - datetime.timedelta(days=DELAY_WINDOW_DAYS), "now": now,
              "decided": [S.ACCEPTED.value, S.REFUSED.value, S.PAID.value]})
        figures = {row[0]: row[1:] for row in cursor.fetchall()}

    def days(value) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))

    rows = []
    for pk in Prestation.objects.values_list("pk", flat=True):
        decided, median, p90 = figures.get(pk, (0, None, None))
        rows.append(PrestationDelays(prestation_id=pk, decided=decided, median_days=days(median),
                                     p90_days=days(p90), computed_at=now))
    with transaction.atomic():
        PrestationDelays.objects.bulk_create(rows, update_conflicts=True, unique_fields=["prestation"],
                                             update_fields=["decided", "median_days", "p90_days", "computed_at"])
    return len(rows)


def refresh(*, region_id: int | None = None, every_region: bool = False) -> int:
    """Compute and store the snapshot of one scope, or of the nation and every region (and, with every
    region, the prestations' delays)."""
    if every_region:
        refresh_delays()
    scopes = [None, *Region.objects.values_list("pk", flat=True)] if every_region else [region_id]
    for scope in scopes:
        data = compute(region_id=scope)
        with transaction.atomic():
            IndicatorSnapshot.objects.update_or_create(region_id=scope, defaults={
                "data": data, "computed_at": timezone.now()})
    return len(scopes)
