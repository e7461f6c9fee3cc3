"""The roster: list, exports, adding, correcting and ending a line, invitations."""


from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adhesions import selectors, services
from adhesions.access import (
    get_roster_line_or_404,
)
from adhesions.filters import RosterFilter, roster_queryset
from adhesions.forms import (
    EndEmploymentForm,
    RosterEntryForm,
)
from adhesions.models import Coverage, Employment, Invitation
from adhesions.views._common import _form_errors_from, correspondent_view
from cnas import exports
from cnas.idempotency import once
from cnas.models import AuditEntry

ROSTER_PAGE_SIZE = 50


class CountedPaginator(Paginator):
    """A paginator told its count (the roster's, from the cache) rather than counting each page, and
    which reads a page in two steps: the ids of its lines, in order (the index walk, nothing else
    computed for the lines skipped before it), then those lines with everything the page shows."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @property
    def count(self) -> int:
        return self._known_count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:bottom + self.per_page])
        lines = {line.pk: line for line in self.object_list.filter(pk__in=ids)}
        return self._get_page([lines[pk] for pk in ids if pk in lines], number, self)


@correspondent_view
@require_GET
def roster(request, adherent):
    today = timezone.localdate()
    roster_filter = RosterFilter(request.GET, queryset=roster_queryset(adherent=adherent, today=today))
    lines = roster_filter.qs
    filters = {key: value for key, value in sorted(request.GET.items()) if key in roster_filter.filters}
    total = selectors.cached_roster_count(adherent_id=adherent.pk, what=f"lines:{filters}",
                                          count=lines.order_by().count)
    page = CountedPaginator(lines, ROSTER_PAGE_SIZE, count=total).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "adhesions/roster.html", {
        "adherent": adherent, "filter": roster_filter, "page": page, "query": query.urlencode(),
        "invitable": selectors.cached_roster_count(adherent_id=adherent.pk, what="invitable",
                                                   count=services.invitable_agents(adherent).count),
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
    what the import reads back (cnas.exports: no cell is ever a formula)."""
    return exports.csv_response(_export_name(adherent, "csv"), EXPORT_HEADERS, _export_rows(adherent, request))


@correspondent_view
@require_GET
def roster_export_xlsx(request, adherent):
    return exports.xlsx_response(_export_name(adherent, "xlsx"), _("Effectif"), EXPORT_HEADERS,
                                 _export_rows(adherent, request))


@correspondent_view
@require_http_methods(["GET", "POST"])
def roster_add(request, adherent):
    form = RosterEntryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            employment = once(request, scope="roster.hire", create=lambda: services.hire_agent(
                actor=request.user, employer=adherent, employee_number=form.cleaned_data["employee_number"],
                start_date=form.cleaned_data["start_date"], **form.identity()))[0]
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
