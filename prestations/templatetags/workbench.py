"""The staff dashboard on the admin's home page, read from the snapshots the worker keeps."""

from django import template

register = template.Library()


def _bars(rows, key, *, label, width=320) -> list[dict]:
    """Horizontal bars of an inline SVG chart (the same figures stand in the table beside it)."""
    top = max((float(row[key]) for row in rows), default=0) or 1
    return [{"label": row[label], "value": row[key], "y": 22 * n, "width": round(width * float(row[key]) / top)}
            for n, row in enumerate(rows)]


@register.simple_tag(takes_context=True)
def staff_dashboard(context):
    from accounts.scope import staff_scope
    from prestations.models import IndicatorSnapshot

    request = context.get("request")
    scope = staff_scope(getattr(request, "user", None))
    if scope.sees_nothing:
        return None
    snapshot = IndicatorSnapshot.objects.filter(region=None if scope.national else scope.region_id) \
        .select_related("region").first()
    if snapshot is None:
        return {"snapshot": None, "national": scope.national}
    data = snapshot.data
    months: dict[str, float] = {}
    for row in data.get("paid_by_month", []):
        months[row["month"]] = months.get(row["month"], 0) + float(row["total"])
    paid_months = [{"month": month, "total": f"{total:.2f}"} for month, total in months.items()]
    regions = []
    if scope.national:
        regions = [{"name": str(s.region), "open": s.data.get("open_total"), "median": s.data.get("median_days"),
                    "p90": s.data.get("p90_days"), "rate": s.data.get("collection", {}).get("rate"),
                    "arrears": s.data.get("arrears")}
                   for s in IndicatorSnapshot.objects.filter(region__isnull=False).select_related("region")
                   .order_by("region__name")]
    return {"snapshot": snapshot, "data": data, "national": scope.national, "regions": regions,
            "age_bars": _bars(data.get("open_by_age", []), "count", label="label"),
            "age_height": 22 * len(data.get("open_by_age", [])) + 4,
            "paid_months": paid_months, "month_bars": _bars(paid_months, "total", label="month"),
            "month_height": 22 * len(paid_months) + 4}
