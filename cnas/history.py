"""Field-level history kept by PostgreSQL triggers (django-pghistory): whatever path changes a
tracked row — a service, the admin, a bulk update, raw SQL — its values before the change are
stored with who made it (the request's user, through pghistory's middleware). Services keep
writing the audit trail (what was done and why); this says exactly which values changed."""

import pghistory
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

MASKED = {"iban"}  # shown as "FR76 •••• 0189" on history pages; the table keeps the full value


def tracked(*, exclude: tuple[str, ...] = ()):
    """Decorator for a model: on every update that changes a tracked field, keep the old row;
    on a deletion, keep the deleted row. Inserts are not copied (the services audit them)."""
    def decorate(model):
        return pghistory.track(
            pghistory.UpdateEvent("modification", row=pghistory.Old,
                                  condition=pghistory.AnyChange(exclude_auto=True)),
            pghistory.DeleteEvent("suppression", row=pghistory.Old),
            exclude=list(exclude), model_name=f"{model.__name__}History",
            obj_field=pghistory.ObjForeignKey(related_name="field_history", related_query_name="field_history"),
        )(model)

    return decorate


def _display(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field.name in MASKED:
        return f"{str(value)[:4]} •••• {str(value)[-4:]}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y %H:%M" if hasattr(value, "hour") else "%d/%m/%Y")
    return str(value)


def field_changes(obj) -> list[dict]:
    """Each change of ``obj`` kept by the triggers, newest first: when, by whom, and for each
    changed field its old and new value ([{at, actor, label, changes: [(field, old, new)]}])."""
    related = getattr(obj, "field_history", None)
    if related is None:
        return []
    events = list(related.select_related("pgh_context").order_by("pgh_created_at", "pgh_id"))
    if not events:
        return []
    fields = [f for f in obj._meta.concrete_fields if hasattr(events[0], f.attname) and not f.primary_key]
    user_ids = {str((e.pgh_context.metadata or {}).get("user")) for e in events if e.pgh_context_id}
    emails = {str(pk): email for pk, email in get_user_model().objects.filter(
        pk__in=[u for u in user_ids if u.isascii() and u.isdigit()]).values_list("pk", "email")}
    result = []
    for index, event in enumerate(events):
        after = events[index + 1] if index + 1 < len(events) else obj  # the next old row, or the row as it is
        if event.pgh_label == "suppression":
            after = None
        changes = []
        for field in fields:
            old = getattr(event, field.attname)
            new = getattr(after, field.attname) if after is not None else None
            if old != new:
                changes.append((str(field.verbose_name), _display(field, old), _display(field, new)))
        context = (event.pgh_context.metadata if event.pgh_context_id else {}) or {}
        result.append({"at": event.pgh_created_at, "label": _("suppression") if after is None else _("modification"),
                       "actor": emails.get(str(context.get("user")), _("système")),
                       "url": context.get("url", ""), "changes": changes})
    return list(reversed(result))
