"""What a roster file would change, and writing it: all of it or none of it.

The plan compares the file with the adherent's roster in a few queries (the roster is
loaded once into a dictionary by employee number), so 20,000 lines take seconds. The
same plan is computed again inside the writing transaction, under a lock on the
adherent, so that what is written is what the roster is at that moment.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _

from accounts.models import Agent, AgentStatus
from adhesions.coverage import sync_coverage
from adhesions.models import Adherent, Employment
from adhesions.roster_file import Row, RowError, Table
from cnas.models import AuditEntry

AGENT_FIELDS = ("last_name", "first_name", "email", "birth_name", "sex", "phone", "address", "postcode", "city")
FIELD_LABELS = {
    "last_name": "nom", "first_name": "prénom", "email": "e-mail", "birth_name": "nom de naissance",
    "sex": "sexe", "phone": "téléphone", "address": "adresse", "postcode": "code postal", "city": "commune",
    "start_date": "date d'entrée", "end_date": "date de sortie", "end_reason": "motif de sortie",
    "status": "statut", "employee_number": "matricule", "birth_date": "date de naissance",
}
PREVIEW_LIMIT = 500


@dataclass
class Change:
    kind: str  # create | update | rehire | close
    row: Row | None
    employment: dict | None = None  # the existing roster line
    agent_changes: dict = field(default_factory=dict)  # field -> (old, new)
    employment_changes: dict = field(default_factory=dict)

    def summary(self) -> dict:
        name = (f"{(self.row.last_name or '').upper()} {self.row.first_name or ''}" if self.row
                else f"{self.employment['agent__last_name'].upper()} {self.employment['agent__first_name']}")
        number = self.row.employee_number if self.row else self.employment["employee_number"]
        changes = {**self.agent_changes, **self.employment_changes}
        return {
            "line": self.row.line if self.row else None, "number": number, "name": name.strip(),
            "changes": [f"{FIELD_LABELS.get(k, k)} : {_show(old)} → {_show(new)}" for k, (old, new) in changes.items()],
        }


def _show(value) -> str:
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return str(value) if value not in (None, "") else "—"


@dataclass
class Plan:
    changes: list[Change]
    unchanged: int
    errors: list[RowError]

    def of_kind(self, *kinds: str) -> list[Change]:
        return [c for c in self.changes if c.kind in kinds]

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": len(self.of_kind("create", "rehire")),
            "updated": len(self.of_kind("update")),
            "closed": len(self.of_kind("close")),
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }

    def preview(self) -> dict:
        return {
            kind: [c.summary() for c in self.of_kind(*kinds)[:PREVIEW_LIMIT]]
            for kind, kinds in (("create", ("create", "rehire")), ("update", ("update",)), ("close", ("close",)))
        }


ROSTER_VALUES = ("id", "agent_id", "employee_number", "start_date", "end_date", "end_reason", "agent__status",
                 "agent__birth_date", *(f"agent__{f}" for f in AGENT_FIELDS))


def load_roster(adherent: Adherent) -> dict[str, dict]:
    """The latest roster line of each employee number (an open one before closed ones)."""
    roster: dict[str, dict] = {}
    lines = (Employment.objects.filter(employer=adherent)
             .order_by("employee_number", "end_date", "-start_date")  # NULL end (open) sorts last
             .values(*ROSTER_VALUES))
    for line in lines:
        current = roster.get(line["employee_number"])
        if current is None or line["end_date"] is None or (
                current["end_date"] is not None and line["start_date"] > current["start_date"]):
            roster[line["employee_number"]] = line
    return roster


def build_plan(*, adherent: Adherent, table: Table, is_complete: bool, today: datetime.date) -> Plan:
    errors = list(table.errors)
    lines_in_error = {e.line for e in errors}
    roster = load_roster(adherent)
    changes: list[Change] = []
    unchanged = 0
    for row in table.rows:
        if row.line in lines_in_error:
            continue
        existing = roster.get(row.employee_number)
        if existing is None:
            changes.append(Change("create", row))
            continue
        if existing["agent__birth_date"] != row.birth_date:
            errors.append(RowError(row.line, "matricule", row.employee_number, _(
                "Ce matricule appartient déjà à un autre agent de votre effectif (%(name)s, né(e) le %(birth)s) : "
                "vérifiez le matricule ou la date de naissance.") % {
                "name": f"{existing['agent__last_name'].upper()} {existing['agent__first_name']}",
                "birth": existing["agent__birth_date"].strftime("%d/%m/%Y")}))
            continue
        change = _compare(row, existing, table.columns)
        if isinstance(change, RowError):
            errors.append(change)
        elif change is None:
            unchanged += 1
        else:
            changes.append(change)
    if is_complete:
        in_file = {row.employee_number for row in table.rows}
        for number, line in roster.items():
            if line["end_date"] is None and number not in in_file:
                # The file describes the roster of today: whoever is missing left by yesterday.
                end = max(line["start_date"], today - datetime.timedelta(days=1))
                changes.append(Change("close", None, employment=line, employment_changes={
                    "end_date": (None, end), "end_reason": ("", Employment.EndReason.OTHER.label)}))
    errors.sort(key=lambda e: (e.line, e.column))
    return Plan(changes=changes, unchanged=unchanged, errors=errors)


def _compare(row: Row, existing: dict, columns: list[str]) -> Change | RowError | None:
    agent_changes = {
        f: (existing[f"agent__{f}"], row.values[f]) for f in AGENT_FIELDS
        if f in columns and f in row.values and row.values[f] != existing[f"agent__{f}"]
    }
    employment_changes: dict = {}
    is_open = existing["end_date"] is None
    if row.status == "working":
        if not is_open:
            if row.start_date <= existing["end_date"]:
                return RowError(row.line, "date d'entrée", row.start_date.strftime("%d/%m/%Y"), _(
                    "Cet agent est sorti de l'effectif le %(end)s : pour le réintégrer, donnez une date d'entrée "
                    "postérieure.") % {"end": existing["end_date"].strftime("%d/%m/%Y")})
            return Change("rehire", row, existing, agent_changes,
                          {"start_date": (existing["start_date"], row.start_date)})
        if row.start_date != existing["start_date"]:
            employment_changes["start_date"] = (existing["start_date"], row.start_date)
    else:
        if row.start_date != existing["start_date"]:
            employment_changes["start_date"] = (existing["start_date"], row.start_date)
        if existing["end_date"] != row.end_date:
            employment_changes["end_date"] = (existing["end_date"], row.end_date)
        if existing["end_reason"] != row.end_reason:
            employment_changes["end_reason"] = (existing["end_reason"], row.end_reason)
        if row.status == "retired" and existing["agent__status"] != AgentStatus.RETIRED:
            agent_changes["status"] = (existing["agent__status"], AgentStatus.RETIRED)
    if not agent_changes and not employment_changes:
        return None
    return Change("update", row, existing, agent_changes, employment_changes)


# --- Writing ------------------------------------------------------------------------------

def apply_plan(*, actor, adherent: Adherent, plan: Plan, reason: str,
               progress: Callable[[int], None] = lambda pct: None) -> dict[str, int]:
    """Write the plan; call inside one transaction (the caller's)."""
    assert not plan.errors, "a plan with errors is never applied"
    touched: set[int] = set()
    audit_rows: list[tuple[int, str, dict]] = []

    creates = plan.of_kind("create")
    new_agents = Agent.objects.bulk_create([
        Agent(last_name=c.row.last_name, first_name=c.row.first_name, birth_date=c.row.birth_date,
              status=AgentStatus.RETIRED if c.row.status == "retired" else AgentStatus.WORKING,
              **{f: c.row.values[f] for f in AGENT_FIELDS
                 if f in c.row.values and f not in ("last_name", "first_name")})
        for c in creates
    ], batch_size=2000)
    progress(30)
    new_employments = [
        Employment(agent=agent, employer=adherent, employee_number=c.row.employee_number,
                   start_date=c.row.start_date, end_date=c.row.end_date if c.row.status != "working" else None,
                   end_reason=c.row.end_reason if c.row.status != "working" else "")
        for agent, c in zip(new_agents, creates, strict=True)
    ]
    for change in plan.of_kind("rehire"):
        new_employments.append(Employment(agent_id=change.employment["agent_id"], employer=adherent,
                                          employee_number=change.row.employee_number,
                                          start_date=change.row.start_date))
    Employment.objects.bulk_create(new_employments, batch_size=2000)
    progress(50)
    for employment, change in zip(new_employments, [*creates, *plan.of_kind("rehire")], strict=True):
        touched.add(employment.agent_id)
        audit_rows.append((employment.pk, f"{(change.row.last_name or '').upper()} {change.row.first_name}", {
            "opération": "création" if change.kind == "create" else "réintégration",
            "matricule": change.row.employee_number, "entrée": change.row.start_date.isoformat()}))

    agent_updates: dict[int, dict] = {}
    employment_updates: dict[int, dict] = {}
    for change in plan.of_kind("update", "rehire", "close"):
        line = change.employment
        touched.add(line["agent_id"])
        if change.agent_changes:
            agent_updates[line["agent_id"]] = {k: new for k, (_old, new) in change.agent_changes.items()}
        if change.kind == "rehire":
            continue  # its new employment was created and audited above
        if change.employment_changes:
            values = {k: new for k, (_old, new) in change.employment_changes.items()}
            if change.kind == "close":
                values["end_reason"] = Employment.EndReason.OTHER
            employment_updates[line["id"]] = values
        name = f"{line['agent__last_name'].upper()} {line['agent__first_name']}"
        operation = {"update": "mise à jour", "close": "sortie (fichier complet)"}
        audit_rows.append((line["id"], name, {
            "opération": operation[change.kind],
            **{FIELD_LABELS.get(k, k): [_show(o), _show(n)]
               for k, (o, n) in {**change.agent_changes, **change.employment_changes}.items()},
        }))
    _bulk_update(Agent, agent_updates)
    _bulk_update(Employment, employment_updates)
    progress(70)

    sync_coverage(employer=adherent, agent_ids=touched)
    progress(90)
    content_type = ContentType.objects.get_for_model(Employment)
    user = actor if getattr(actor, "is_authenticated", False) else None
    AuditEntry.objects.bulk_create([
        AuditEntry(actor=user, action="roster.import", content_type=content_type, object_id=str(pk),
                   object_repr=name[:255], reason=reason, changes=changes)
        for pk, name, changes in audit_rows
    ], batch_size=2000)
    return plan.counts


def _bulk_update(model, updates: dict[int, dict]) -> None:
    """Update each object's own fields; the fields another object changes keep their value."""
    if not updates:
        return
    fields = sorted({name for values in updates.values() for name in values})
    objects = []
    for row in model.objects.filter(pk__in=list(updates)).values("pk", *fields):
        obj = model(pk=row["pk"])
        for name in fields:
            setattr(obj, name, updates[row["pk"]].get(name, row[name]))
        objects.append(obj)
    model.objects.bulk_update(objects, fields, batch_size=2000)
