"""Roster imports: upload, preview with its progress, confirmation."""


from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adhesions import services
from adhesions.access import (
    get_roster_import_or_404,
)
from adhesions.forms import (
    RosterImportForm,
)
from adhesions.models import RosterImport
from adhesions.views._common import _form_errors_from, correspondent_view
from cnas import private_files
from cnas.idempotency import once


@correspondent_view
@require_http_methods(["GET", "POST"])
def imports(request, adherent):
    form = RosterImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = once(request, scope="roster_import.upload",
                          create=lambda: services.create_roster_import(actor=request.user, adherent=adherent,
                                                   uploaded=form.cleaned_data["file"],
                                                   is_complete=form.cleaned_data["is_complete"]))[0]
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
    return private_files.serve(record.file, content_type=private_files.OPAQUE, filename=record.original_name)
