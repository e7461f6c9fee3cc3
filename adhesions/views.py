import csv
import datetime
import io
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook

from adhesions import selectors, services
from adhesions.access import (
    CORRESPONDENT,
    get_managed_adherent_or_404,
    get_roster_import_or_404,
    get_roster_line_or_404,
    require_some_adherent,
)
from adhesions.filters import RosterFilter, roster_queryset
from adhesions.forms import (
    EndEmploymentForm,
    InviteCorrespondentForm,
    PayrollDeclarationForm,
    RosterEntryForm,
    RosterImportForm,
)
from adhesions.models import ContributionCall, Coverage, Employment, Invitation, PayrollDeclaration, RosterImport
from cnas import private_files
from cnas.models import AuditEntry
from cnas.pdf import render_pdf

ROSTER_PAGE_SIZE = 50


def correspondent_view(view):
    """The view of one adherent that this user is a correspondent of; 404 for anybody else."""

    @login_required
    @wraps(view)
    def wrapper(request, pk: int, *args, **kwargs):
        request.adherent = get_managed_adherent_or_404(request.user, pk, role=CORRESPONDENT)
        return view(request, request.adherent, *args, **kwargs)

    return wrapper


def _form_errors_from(exc: ValidationError, form) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
def index(request):
    adherents = require_some_adherent(request.user, role=CORRESPONDENT)
    if len(adherents) == 1:
        return redirect("collectivite:home", pk=adherents[0].pk)
    return render(request, "adhesions/index.html", {"adherents": adherents})


@correspondent_view
def home(request, adherent):
    today = timezone.localdate()
    context = {
        "adherent": adherent,
        "adhesion": adherent.current_adhesion(today),
        "last_adhesion": adherent.adhesions.first(),
        "counts": selectors.roster_counts(adherent=adherent, day=today),
        "covered": selectors.covered_count(adherent=adherent, day=today),
        "colleagues": adherent.managers.select_related("user").order_by("user__email"),
        "last_declaration": adherent.payroll_declarations.order_by("-year", "-declared_at").first(),
        "last_import": adherent.roster_imports.first(),
        "today": today,
    }
    return render(request, "adhesions/home.html", context)


# --- Roster -------------------------------------------------------------------------------

@correspondent_view
@require_GET
def roster(request, adherent):
    today = timezone.localdate()
    roster_filter = RosterFilter(request.GET, queryset=roster_queryset(adherent=adherent, today=today))
    page = Paginator(roster_filter.qs, ROSTER_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "adhesions/roster.html", {
        "adherent": adherent, "filter": roster_filter, "page": page, "query": query.urlencode(),
        "invitable": services.invitable_agents(adherent).count(),
    })


EXPORT_HEADERS = ["matricule", "nom", "prénom", "date de naissance", "e-mail", "date d'entrée", "statut",
                  "date de sortie", "motif de sortie", "couvert aujourd'hui"]
SITUATION_LABELS = {"working": "actif", "retired": "retraité", "left": "sorti"}


def _export_rows(adherent, request):
    today = timezone.localdate()
    roster_filter = RosterFilter(request.GET, queryset=roster_queryset(adherent=adherent, today=today))
    for line in roster_filter.qs.iterator(chunk_size=2000):
        agent = line.agent
        yield [line.employee_number, agent.last_name, agent.first_name, agent.birth_date, agent.email,
               line.start_date, SITUATION_LABELS[line.situation], line.end_date,
               line.get_end_reason_display() if line.end_reason else "", "oui" if line.is_covered else "non"]


def _export_name(adherent, extension: str) -> str:
    return f"effectif-{adherent.siret}-{timezone.localdate():%Y%m%d}.{extension}"


@correspondent_view
@require_GET
def roster_export_csv(request, adherent):
    """Semicolon-separated UTF-8 with a BOM, dates dd/mm/yyyy: what French Excel opens, and
    what the import reads back."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(EXPORT_HEADERS)
    for row in _export_rows(adherent, request):
        writer.writerow([v.strftime("%d/%m/%Y") if hasattr(v, "strftime") else (v or "") for v in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(adherent, "csv")}"'
    return response


@correspondent_view
@require_GET
def roster_export_xlsx(request, adherent):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Effectif"))
    sheet.append(EXPORT_HEADERS)
    for row in _export_rows(adherent, request):
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(adherent, "xlsx")}"'
    return response


@correspondent_view
@require_http_methods(["GET", "POST"])
def roster_add(request, adherent):
    form = RosterEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employment = services.hire_agent(
                actor=request.user, employer=adherent, employee_number=form.cleaned_data["employee_number"],
                start_date=form.cleaned_data["start_date"], **form.identity())
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("%(name)s a été ajouté(e) à l'effectif.") % {"name": employment.agent})
            return redirect("collectivite:agent", pk=adherent.pk, line=employment.pk)
    return render(request, "adhesions/roster_form.html", {"adherent": adherent, "form": form, "line": None})


@correspondent_view
@require_GET
def roster_agent(request, adherent, line: int):
    employment = get_roster_line_or_404(adherent, line)
    agent = employment.agent
    lines = list(Employment.objects.filter(employer=adherent, agent=agent).order_by("-start_date"))
    history = (AuditEntry.objects.filter(content_type__app_label="adhesions", content_type__model="employment",
                                         object_id__in=[str(e.pk) for e in lines])
               .select_related("actor").order_by("-at", "-id"))
    context = {
        "adherent": adherent, "line": employment, "agent": agent, "lines": lines,
        "coverages": Coverage.objects.filter(adherent=adherent, agent=agent).order_by("-period"),
        "history": history,
        "invitation": Invitation.objects.filter(adherent=adherent, agent=agent).order_by("-created_at").first(),
        "can_invite": employment.end_date is None and agent.email and agent.user_id is None,
        "end_form": EndEmploymentForm() if employment.end_date is None else None,
    }
    return render(request, "adhesions/roster_agent.html", context)


@correspondent_view
@require_http_methods(["GET", "POST"])
def roster_edit(request, adherent, line: int):
    employment = get_roster_line_or_404(adherent, line)
    form = RosterEntryForm(request.POST or None, initial=RosterEntryForm.initial_for(employment))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_roster_entry(actor=request.user, employment=employment,
                                         employee_number=form.cleaned_data["employee_number"],
                                         start_date=form.cleaned_data["start_date"], **form.identity())
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("La fiche a été mise à jour."))
            return redirect("collectivite:agent", pk=adherent.pk, line=employment.pk)
    return render(request, "adhesions/roster_form.html", {"adherent": adherent, "form": form, "line": employment})


@correspondent_view
@require_http_methods(["GET", "POST"])
def roster_end(request, adherent, line: int):
    employment = get_roster_line_or_404(adherent, line)
    form = EndEmploymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.end_employment(actor=request.user, employment=employment,
                                    end_date=form.cleaned_data["end_date"], reason=form.cleaned_data["reason"],
                                    comment=form.cleaned_data["comment"])
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("La sortie de l'effectif est enregistrée."))
            return redirect("collectivite:agent", pk=adherent.pk, line=employment.pk)
    return render(request, "adhesions/roster_end.html", {"adherent": adherent, "form": form, "line": employment})


@correspondent_view
@require_POST
def roster_invite(request, adherent, line: int):
    employment = get_roster_line_or_404(adherent, line)
    try:
        services.invite_agent(actor=request.user, adherent=adherent, agent=employment.agent)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("L'invitation part à %(email)s.") % {"email": employment.agent.email})
    return redirect("collectivite:agent", pk=adherent.pk, line=employment.pk)


@correspondent_view
@require_POST
def roster_invite_all(request, adherent):
    count = services.invite_all_agents(actor=request.user, adherent=adherent)
    if count:
        messages.success(request, _("%(count)s invitation(s) en cours d'envoi.") % {"count": count})
    else:
        messages.info(request, _("Aucun agent à inviter : ils ont déjà un compte, pas d'e-mail, ou une invitation "
                                 "de moins de sept jours."))
    return redirect("collectivite:roster", pk=adherent.pk)


# --- Imports ------------------------------------------------------------------------------

@correspondent_view
@require_http_methods(["GET", "POST"])
def imports(request, adherent):
    form = RosterImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.create_roster_import(actor=request.user, adherent=adherent,
                                                   uploaded=form.cleaned_data["file"],
                                                   is_complete=form.cleaned_data["is_complete"])
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            return redirect("collectivite:import", pk=adherent.pk, imp=record.pk)
    history = adherent.roster_imports.select_related("uploaded_by")[:30]
    return render(request, "adhesions/imports.html", {"adherent": adherent, "form": form, "history": history})


@correspondent_view
@require_GET
def import_detail(request, adherent, imp: int):
    record = get_roster_import_or_404(adherent, imp)
    previous = (adherent.roster_imports.filter(sha256=record.sha256, status=RosterImport.Status.APPLIED)
                .exclude(pk=record.pk).first())
    return render(request, "adhesions/import_detail.html", {
        "adherent": adherent, "record": record, "previous": previous,
        "progress": cache.get(record.progress_key, 0) if record.is_running else 100,
    })


@correspondent_view
@require_GET
def import_status(request, adherent, imp: int):
    record = get_roster_import_or_404(adherent, imp)
    return JsonResponse({
        "status": record.status, "label": record.get_status_display(), "running": record.is_running,
        "progress": cache.get(record.progress_key, 0) if record.is_running else 100,
    })


@correspondent_view
@require_POST
def import_confirm(request, adherent, imp: int):
    record = get_roster_import_or_404(adherent, imp)
    if record.status != RosterImport.Status.READY:
        messages.error(request, _("Cet import ne peut plus être confirmé (%(status)s).") % {
            "status": record.get_status_display()})
    else:
        services.confirm_roster_import(actor=request.user, record=record)
    return redirect("collectivite:import", pk=adherent.pk, imp=record.pk)


@correspondent_view
@require_POST
def import_cancel(request, adherent, imp: int):
    record = get_roster_import_or_404(adherent, imp)
    services.cancel_roster_import(actor=request.user, record=record)
    messages.info(request, _("Import annulé : rien n'a été modifié."))
    return redirect("collectivite:imports", pk=adherent.pk)


@correspondent_view
@require_GET
def import_file(request, adherent, imp: int):
    record = get_roster_import_or_404(adherent, imp)
    return private_files.serve(record.file, filename=record.original_name)


# --- Correspondents and payroll -----------------------------------------------------------

@correspondent_view
@require_http_methods(["GET", "POST"])
def correspondents(request, adherent):
    form = InviteCorrespondentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_correspondent(actor=request.user, adherent=adherent, email=form.cleaned_data["email"])
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("L'invitation part à %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("collectivite:correspondents", pk=adherent.pk)
    return render(request, "adhesions/correspondents.html", {
        "adherent": adherent, "form": form,
        "managers": adherent.managers.select_related("user").order_by("user__email"),
        "pending": adherent.invitations.filter(kind=Invitation.Kind.CORRESPONDENT, accepted_at__isnull=True),
    })


@correspondent_view
@require_http_methods(["GET", "POST"])
def payroll(request, adherent):
    today = timezone.localdate()
    counts = selectors.roster_counts(adherent=adherent, day=today.replace(month=12, day=31, year=today.year - 1))
    initial = {"year": today.year - 1, "working_headcount": counts["working"], "retired_headcount": counts["retired"]}
    form = PayrollDeclarationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.declare_payroll(actor=request.user, adherent=adherent, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("Votre déclaration %(year)s est enregistrée.") % {
                "year": form.cleaned_data["year"]})
            return redirect("collectivite:payroll", pk=adherent.pk)
    declarations = (PayrollDeclaration.objects.filter(adherent=adherent).select_related("declared_by")
                    .order_by("-year", "-declared_at"))
    current_ids = set(PayrollDeclaration.objects.filter(adherent=adherent).current().values_list("id", flat=True))
    return render(request, "adhesions/payroll.html", {
        "adherent": adherent, "form": form, "declarations": declarations, "current_ids": current_ids,
    })



# --- Contributions (correspondents here, COS administrators through cos.urls) --------------

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
    for total in years.values():
        total["settled"] = total["balance"] <= 0
        total["benefits"] = paid.get(total["year"], 0)
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
        return private_files.serve(record.pdf, filename=f"{record.reference}.pdf", inline=True)

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
