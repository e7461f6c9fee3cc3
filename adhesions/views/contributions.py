"""Contribution calls, their PDFs and the certificate (correspondents here, COS administrators through cos.urls)."""

import datetime
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from adhesions import selectors
from adhesions.access import (
    CORRESPONDENT,
    get_managed_adherent_or_404,
)
from adhesions.computation import compute_one
from adhesions.models import ContributionCall, ContributionScale
from cnas import private_files
from cnas.pdf import render_pdf


def _contribution_context(adherent) -> dict:
    calls = list(selectors.calls_with_balance(adherent=adherent).select_related("regularises"))
    years = {}
    for call in calls:
        total = years.setdefault(call.year, {"year": call.year, "amount": 0, "paid": 0, "balance": 0})
        total["amount"] += call.amount
        total["paid"] += call.paid
        total["balance"] += call.balance
    # The return on the contribution: benefits paid that year to agents through this adherent
    # (requests are prestations' models, reached through their relation, never imported).
    paid = dict(adherent.demandes.filter(status="paid", paid_at__year__in=list(years))
                .values_list("paid_at__year").annotate(total=Sum("amount_granted")).values_list("paid_at__year",
                                                                                               "total"))
    # The same computation as the campaign and the regularisation, with today's data: when it
    # differs from what was called, the correspondent sees the regularisation to come.
    today = timezone.localdate()
    scales = {s.year: s for s in ContributionScale.objects.filter(year__in=[y for y in years if y >= today.year - 1])}
    for total in years.values():
        total["settled"] = total["balance"] <= 0
        total["benefits"] = paid.get(total["year"], 0)
        if total["year"] in scales:
            computed = compute_one(scales[total["year"]], adherent_id=adherent.pk)
            total["recomputed"] = computed.amount if computed else Decimal("0.00")
            total["difference"] = total["recomputed"] - total["amount"]
    late = selectors.arrears(adherent_ids=[adherent.pk])
    return {"adherent": adherent, "calls": calls, "years": sorted(years.values(), key=lambda t: -t["year"]),
            "late_year": late.get(adherent.pk)}


def contributions_view(role: str, template: str):
    @login_required
    @require_GET
    def view(request, pk: int):
        adherent = get_managed_adherent_or_404(request.user, pk, role=role)
        return render(request, template, _contribution_context(adherent))

    return view


def call_pdf_view(role: str):
    @login_required
    @require_GET
    def view(request, pk: int, call: int):
        adherent = get_managed_adherent_or_404(request.user, pk, role=role)
        record = get_object_or_404(ContributionCall, pk=call, adherent=adherent)
        if not record.pdf:
            raise Http404  # still being rendered by the campaign
        return private_files.serve(record.pdf, content_type="application/pdf", filename=f"{record.reference}.pdf",
                                   inline=True)

    return view


def certificate_view(role: str):
    @login_required
    @require_GET
    def view(request, pk: int, year: int):
        adherent = get_managed_adherent_or_404(request.user, pk, role=role)
        calls = list(selectors.calls_with_balance(adherent=adherent).filter(year=year))
        if not calls or sum(c.balance for c in calls) > 0:
            raise Http404  # the certificate exists once the year is paid
        content = render_pdf("adhesions/pdf/certificate.html", {
            "adherent": adherent, "year": year, "calls": calls, "today": timezone.localdate(),
            "adhesion": adherent.adhesions.active_on(datetime.date(year, 12, 31)).first()
            or adherent.adhesions.first()})
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="attestation-{year}-{adherent.siret}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response

    return view


contributions = contributions_view(CORRESPONDENT, "adhesions/contributions.html")


call_pdf = call_pdf_view(CORRESPONDENT)


certificate = certificate_view(CORRESPONDENT)
