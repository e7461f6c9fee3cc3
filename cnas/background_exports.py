"""Any admin list exported with its current filters, search and ordering — and the author's own
regional scope — by the worker, to CSV (`;`, UTF-8 BOM) or XLSX, row by row into a temporary file
(a million rows never sit in memory), then kept privately for its author for seven days.

The worker rebuilds the list as the author saw it: the model's admin, a GET request with the same
query string made for the author, and Django's own ``ChangeList`` — the columns are the list's."""

import datetime
import io
import tempfile

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import label_for_field, lookup_field
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import models, transaction
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from cnas import audit, outbox
from cnas.exports import XLSX, csv_rows, neutralise
from cnas.models import ExportJob

KEPT_FOR = datetime.timedelta(days=7)
PROGRESS_EVERY = 5000
CONTENT_TYPES = {ExportJob.Format.CSV: "text/csv", ExportJob.Format.XLSX: XLSX}


def _model_admin(label: str):
    from django.apps import apps
    from django.contrib import admin

    try:
        model = apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise ValidationError(_("Cette liste ne s'exporte pas.")) from exc
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not getattr(model_admin, "exportable", False):
        raise ValidationError(_("Cette liste ne s'exporte pas."))
    return model_admin


@transaction.atomic
def request_export(*, actor, model_label: str, query: str, export_format: str) -> ExportJob:
    """The staff member asks for the list he is looking at; the worker writes it."""
    if export_format not in ExportJob.Format.values:
        raise ValidationError(_("Format d'export inconnu."))
    if "\x00" in query:  # PostgreSQL keeps no NUL in a text: a forged query, refused rather than a 500
        raise ValidationError(_("Ces filtres ne sont pas valides."))
    model_admin = _model_admin(model_label)
    job = ExportJob.objects.create(author=actor, model=model_label, query=query[:2000], format=export_format,
                                   title=str(model_admin.model._meta.verbose_name_plural)[:200])
    audit.record(actor=actor, action="export.request", target=job, changes={"liste": model_label, "filtres": query})
    outbox.enqueue("cnas.tasks.run_export", job_id=job.pk, dedupe_key=f"export:{job.pk}")
    return job


def _changelist_queryset(job: ExportJob):
    model_admin = _model_admin(job.model)
    request = HttpRequest()
    request.method, request.path = "GET", "/"
    request.GET = QueryDict(job.query)
    request.user = job.author
    if not model_admin.has_view_permission(request):
        raise ValidationError(_("Vous n'avez plus accès à cette liste."))
    changelist = model_admin.get_changelist_instance(request)
    fields = [name for name in changelist.list_display if name != "action_checkbox"]
    header = [capfirst(strip_tags(str(label_for_field(name, model_admin.model, model_admin)))) for name in fields]
    return model_admin, changelist.get_queryset(request), fields, header


def _cell(name: str, obj, model_admin):
    field, _attr, value = lookup_field(name, obj, model_admin)
    if field is not None and getattr(field, "flatchoices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("oui") if value else _("non")
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        return timezone.localtime(value)
    if isinstance(value, str):
        return strip_tags(value)
    return value


def run_export(*, job_id: int) -> ExportJob:
    """Worker side: write the file, row by row. Safe to run twice (a finished job is left alone)."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().select_related("author").get(pk=job_id)
        if job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
            return job
        job.status, job.written = ExportJob.Status.RUNNING, 0
        job.save(update_fields=["status", "written"])
    try:
        model_admin, queryset, fields, header = _changelist_queryset(job)
        total = queryset.count()
        ExportJob.objects.filter(pk=job.pk).update(total=total)

        def rows():
            for n, obj in enumerate(queryset.iterator(chunk_size=2000), start=1):
                if n % PROGRESS_EVERY == 0:
                    ExportJob.objects.filter(pk=job.pk).update(written=n)
                yield [_cell(name, obj, model_admin) for name in fields]

        with tempfile.TemporaryFile() as handle:
            if job.format == ExportJob.Format.CSV:
                text = io.TextIOWrapper(handle, encoding="utf-8", newline="", write_through=True)
                for line in csv_rows(header, rows()):
                    text.write(line)
                text.flush()
                text.detach()
            else:
                _write_xlsx(handle, job.title, header, rows())
            handle.seek(0)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            job.file.save(f"{job.model.replace('.', '-')}-{stamp}.{job.format}", File(handle), save=False)
    except (ValidationError, IncorrectLookupParameters) as exc:
        messages = exc.messages if isinstance(exc, ValidationError) else [_("Les filtres de la liste sont invalides.")]
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.FAILED, failure=" ".join(messages),
                                                   finished_at=timezone.now())
        return ExportJob.objects.get(pk=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.DONE, file=job.file.name, written=total,
                                               finished_at=timezone.now())
    return ExportJob.objects.get(pk=job.pk)


def _write_xlsx(handle, title: str, header: list[str], rows) -> None:
    """openpyxl's write-only workbook keeps no row in memory (it spools to its own temporary file)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31] or "export")

    def cells(values):
        for value in values:
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            if isinstance(value, str):
                cell.data_type = "s"
            elif isinstance(value, datetime.datetime):
                cell.value = value.replace(tzinfo=None)  # already local time (``_cell``)
                cell.number_format = "DD/MM/YYYY HH:MM"
            elif isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
            yield cell

    sheet.append(list(cells(header)))
    for row in rows:
        sheet.append(list(cells(row)))
    workbook.save(handle)


def downloadable(*, user, job_id: int) -> ExportJob | None:
    """The author's finished export, for seven days; anybody else's: None (a 404)."""
    return ExportJob.objects.filter(pk=job_id, author=user, status=ExportJob.Status.DONE,
                                    created_at__gte=timezone.now() - KEPT_FOR).exclude(file="").first()
