"""Roster imports: checked by the worker, applied all or nothing on confirmation."""

import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.models import (
    Adherent,
    RosterImport,
)
from adhesions.roster_file import RosterFileError, parse_table
from adhesions.roster_plan import Plan, apply_plan, build_plan
from adhesions.services.roster import _roster_lock
from cnas import audit, outbox
from cnas.private_files import sha256_of

MAX_ROSTER_FILE_SIZE = 10 * 1024 * 1024


@transaction.atomic
def create_roster_import(*, actor, adherent: Adherent, uploaded, is_complete: bool) -> RosterImport:
    """Record the upload and have the worker check it (after the commit)."""
    if uploaded.size > MAX_ROSTER_FILE_SIZE:
        raise ValidationError(_("Le fichier dépasse 10 Mo."))
    record = RosterImport.objects.create(
        adherent=adherent, uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        original_name=uploaded.name[:255], sha256=sha256_of(uploaded), size=uploaded.size,
        is_complete=is_complete, file=uploaded,
    )
    audit.record(actor=actor, action="roster_import.upload", target=record,
                 changes={"fichier": record.original_name, "complet": is_complete})

    outbox.enqueue("adhesions.tasks.check_roster_import", import_id=record.pk, dedupe_key=f"check_import:{record.pk}")
    return record


def plan_for(record: RosterImport, *, today: datetime.date | None = None) -> Plan:
    """Read the stored file and compare it with the roster; RosterFileError if unreadable."""
    today = today or timezone.localdate()
    with record.file.open("rb") as handle:
        data = handle.read()
    table = parse_table(data, record.original_name, today=today)
    return build_plan(adherent=record.adherent, table=table, is_complete=record.is_complete, today=today)


def _progress(record: RosterImport, pct: int) -> None:
    cache.set(record.progress_key, pct, timeout=3600)


def check_roster_import(*, import_id: int) -> RosterImport:
    """Worker side: compute the preview and the errors. Safe to run twice."""
    with transaction.atomic():
        record = RosterImport.objects.select_for_update().get(pk=import_id)
        if record.status not in (RosterImport.Status.PENDING, RosterImport.Status.CHECKING):
            return record
        record.status = RosterImport.Status.CHECKING
        record.save(update_fields=["status"])
    _progress(record, 10)
    try:
        plan = plan_for(record)
    except RosterFileError as exc:
        record.status, record.errors, record.error_count = RosterImport.Status.INVALID, [
            {"line": None, "column": "", "value": "", "message": str(exc)}], 1
        record.save(update_fields=["status", "errors", "error_count"])
        _progress(record, 100)
        return record
    counts = plan.counts
    record.line_count = counts["created"] + counts["updated"] + counts["unchanged"] + len(
        {e.line for e in plan.errors})
    record.created_count, record.updated_count = counts["created"], counts["updated"]
    record.closed_count, record.unchanged_count, record.error_count = counts["closed"], counts["unchanged"], counts[
        "errors"]
    record.errors = [e.as_dict() for e in plan.errors[:2000]]
    record.preview = plan.preview()
    record.status = RosterImport.Status.INVALID if plan.errors else RosterImport.Status.READY
    record.save()
    _progress(record, 100)
    return record


@transaction.atomic
def confirm_roster_import(*, actor, record: RosterImport) -> RosterImport:
    """The correspondent confirms: the worker writes it. A second click changes nothing."""
    record = RosterImport.objects.select_for_update().get(pk=record.pk)
    if record.status != RosterImport.Status.READY:
        return record
    record.status = RosterImport.Status.APPLYING
    record.applied_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save(update_fields=["status", "applied_by"])
    audit.record(actor=actor, action="roster_import.confirm", target=record)

    outbox.enqueue("adhesions.tasks.apply_roster_import", import_id=record.pk, dedupe_key=f"apply_import:{record.pk}")
    return record


@transaction.atomic
def cancel_roster_import(*, actor, record: RosterImport) -> RosterImport:
    record = RosterImport.objects.select_for_update().get(pk=record.pk)
    if record.status in (RosterImport.Status.READY, RosterImport.Status.INVALID):
        record.status = RosterImport.Status.CANCELLED
        record.save(update_fields=["status"])
        audit.record(actor=actor, action="roster_import.cancel", target=record)
    return record


def apply_roster_import(*, import_id: int) -> RosterImport:
    """Worker side: write the file, all of it or none of it. Safe to run twice."""
    try:
        with transaction.atomic():
            record = RosterImport.objects.select_for_update().select_related("adherent").get(pk=import_id)
            if record.status != RosterImport.Status.APPLYING:
                return record
            _roster_lock(record.adherent)
            plan = plan_for(record)  # again, against the roster as it is now
            if plan.errors:
                raise RosterChanged(plan)
            counts = apply_plan(actor=record.applied_by, adherent=record.adherent, plan=plan,
                                reason=f"Import du fichier {record.original_name}",
                                progress=lambda pct: _progress(record, pct))
            record.created_count, record.updated_count = counts["created"], counts["updated"]
            record.closed_count, record.unchanged_count = counts["closed"], counts["unchanged"]
            record.status, record.applied_at = RosterImport.Status.APPLIED, timezone.now()
            record.save()
            audit.record(actor=record.applied_by, action="roster_import.apply", target=record,
                         changes={k: v for k, v in counts.items() if k != "errors"})
    except RosterChanged as exc:
        RosterImport.objects.filter(pk=import_id).update(
            status=RosterImport.Status.INVALID, error_count=len(exc.plan.errors),
            errors=[e.as_dict() for e in exc.plan.errors[:2000]],
            failure=_("L'effectif a changé depuis la vérification : déposez le fichier à nouveau."))
    except RosterFileError as exc:
        RosterImport.objects.filter(pk=import_id).update(status=RosterImport.Status.FAILED, failure=str(exc))
    record = RosterImport.objects.get(pk=import_id)
    _progress(record, 100)
    return record


def resume_unfinished_imports() -> int:
    """At a worker's start and from beat: every import left pending, checking or applying has its
    work waiting in the outbox (an import older than the outbox, or whose work was lost)."""
    resumed = 0
    unfinished = RosterImport.objects.filter(status__in=[RosterImport.Status.PENDING, RosterImport.Status.CHECKING,
                                                         RosterImport.Status.APPLYING])
    for pk, status in unfinished.values_list("pk", "status"):
        if status == RosterImport.Status.APPLYING:
            item = outbox.ensure("adhesions.tasks.apply_roster_import", import_id=pk, dedupe_key=f"apply_import:{pk}")
        else:
            item = outbox.ensure("adhesions.tasks.check_roster_import", import_id=pk, dedupe_key=f"check_import:{pk}")
        resumed += item is not None
    return resumed


class RosterChanged(Exception):
    def __init__(self, plan: Plan):
        super().__init__("roster changed since the check")
        self.plan = plan


def import_roster_now(*, actor, adherent: Adherent, data: bytes, filename: str, is_complete: bool,
                      apply: bool) -> tuple[Plan, dict | None]:
    """The command line's path: check, and with ``apply`` write all or nothing, at once."""
    today = timezone.localdate()
    table = parse_table(data, filename, today=today)
    plan = build_plan(adherent=adherent, table=table, is_complete=is_complete, today=today)
    if not apply or plan.errors:
        return plan, None
    with transaction.atomic():
        _roster_lock(adherent)
        plan = build_plan(adherent=adherent, table=table, is_complete=is_complete, today=today)
        if plan.errors:
            return plan, None
        counts = apply_plan(actor=actor, adherent=adherent, plan=plan,
                            reason=f"Import en ligne de commande ({filename})")
        audit.record(actor=actor, action="roster_import.command", target=adherent,
                     changes={"fichier": filename, **{k: v for k, v in counts.items() if k != "errors"}})
    return plan, counts
