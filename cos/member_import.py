"""Importing a COS's members from a spreadsheet: the roster's reader and error reporting,
a preview first, then all of it or none of it.

Columns found by name: matricule and date de naissance (mandatory: the agent is found on the
roster of an employer the COS serves), siret employeur (when the COS serves several),
nom and prénom (checked when present), date d'adhésion, cotisation and date de paiement
(the fee of that year, recorded with the membership)."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from adhesions.models import Adherent, Employment
from adhesions.roster_file import RosterFileError, RowError, normalize, parse_date, read_cells
from adhesions.statements import parse_amount
from cnas.validators import compact_siret
from cos.models import CosMember, MemberFee

COLUMNS = {
    "employee_number": ("matricule", ("matricule", "n matricule", "numero matricule")),
    "birth_date": ("date de naissance", ("date de naissance", "naissance", "date naissance", "ne le")),
    "last_name": ("nom", ("nom", "nom d usage")),
    "first_name": ("prénom", ("prenom",)),
    "siret": ("siret employeur", ("siret employeur", "siret", "employeur")),
    "joined_on": ("date d'adhésion", ("date d adhesion", "adhesion", "membre depuis")),
    "fee": ("cotisation", ("cotisation", "montant cotisation", "montant")),
    "paid_on": ("date de paiement", ("date de paiement", "paiement", "paye le", "payee le")),
}
REQUIRED = ("employee_number", "birth_date")
ALIASES = {alias: key for key, (_label, aliases) in COLUMNS.items() for alias in aliases}


@dataclass
class MemberLine:
    line: int
    agent_id: int
    name: str
    joined_on: datetime.date
    fee: Decimal | None = None
    paid_on: datetime.date | None = None
    is_new: bool = True


@dataclass
class MemberPlan:
    lines: list[MemberLine] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unchanged: int = 0

    @property
    def counts(self) -> dict[str, int]:
        return {"created": sum(1 for line in self.lines if line.is_new),
                "updated": sum(1 for line in self.lines if not line.is_new), "closed": 0,
                "unchanged": self.unchanged, "errors": len(self.errors)}

    def preview(self) -> dict:
        def summary(line):
            changes = [_("cotisation %(year)s : %(amount)s €") % {"year": line.paid_on.year, "amount": line.fee}
                       ] if line.fee is not None else []
            return {"line": line.line, "number": "", "name": line.name, "changes": changes}

        return {"create": [summary(line) for line in self.lines if line.is_new][:500],
                "update": [summary(line) for line in self.lines if not line.is_new][:500], "close": []}


def build_member_plan(*, cos: Adherent, data: bytes, filename: str, employer_ids: list[int],
                      today: datetime.date) -> MemberPlan:
    cells = read_cells(data, filename)
    header = None
    for raw in cells:
        if any(str(c or "").strip() for c in raw):
            header = [normalize(str(c or "")) for c in raw]
            break
    if header is None:
        raise RosterFileError(_("Le fichier est vide."))
    positions = {}
    for index, name in enumerate(header):
        key = ALIASES.get(name)
        if key and key not in positions:
            positions[key] = index
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in positions]
    if missing:
        raise RosterFileError(_("Colonnes obligatoires absentes : %(missing)s.") % {"missing": ", ".join(missing)})
    roster = {}
    for line in (Employment.objects.filter(employer_id__in=employer_ids, end_date__isnull=True)
                 .select_related("agent", "employer")):
        roster.setdefault(line.employee_number, []).append(line)
    members = set(CosMember.objects.filter(cos=cos, left_on__isnull=True).values_list("agent_id", flat=True))
    fees = set(MemberFee.objects.filter(member__cos=cos).values_list("member__agent_id", "year"))
    plan, seen = MemberPlan(), {}
    number = 1
    for raw in cells:
        number += 1
        texts = {k: str(raw[i]).strip() if i < len(raw) and raw[i] is not None else "" for k, i in positions.items()}
        if hasattr(raw[positions["birth_date"]] if positions["birth_date"] < len(raw) else None, "strftime"):
            texts["birth_date"] = raw[positions["birth_date"]].strftime("%d/%m/%Y")
        if not any(texts.values()):
            continue
        errors_before = len(plan.errors)

        def error(key, message, texts=texts, number=number):
            plan.errors.append(RowError(number, COLUMNS[key][0], texts.get(key, ""), message))

        birth = parse_date(texts.get("birth_date", ""))
        if birth is None:
            error("birth_date", _("Date invalide : écrivez-la jj/mm/aaaa."))
        joined = parse_date(texts["joined_on"]) if texts.get("joined_on") else today
        if joined is None or joined > today:
            error("joined_on", _("Date d'adhésion invalide ou dans le futur."))
        fee = paid_on = None
        if texts.get("fee"):
            try:
                fee = parse_amount(texts["fee"])
            except Exception:
                error("fee", _("Montant invalide."))
            paid_on = parse_date(texts.get("paid_on", "")) if texts.get("paid_on") else today
            if paid_on is None or paid_on > today:
                error("paid_on", _("Date de paiement invalide ou dans le futur."))
        candidates = roster.get(texts.get("employee_number", ""), [])
        if texts.get("siret"):
            candidates = [c for c in candidates if c.employer.siret == compact_siret(texts["siret"])]
        if birth is not None:
            candidates = [c for c in candidates if c.agent.birth_date == birth]
        if len(candidates) != 1 and len(plan.errors) == errors_before:
            error("employee_number", _("Aucun agent en poste chez un employeur servi ne correspond à ce matricule et "
                                       "cette date de naissance.") if not candidates else
                  _("Plusieurs employeurs ont ce matricule : ajoutez la colonne « siret employeur »."))
        if len(plan.errors) > errors_before:
            continue
        line = candidates[0]
        if line.agent_id in seen:
            error("employee_number", _("Agent en double : déjà ligne %(line)s.") % {"line": seen[line.agent_id]})
            continue
        seen[line.agent_id] = number
        if texts.get("last_name") and normalize(texts["last_name"]) != normalize(line.agent.last_name):
            error("last_name", _("Ce matricule est celui de %(name)s.") % {"name": line.agent})
            continue
        is_new = line.agent_id not in members
        new_fee = fee is not None and (line.agent_id, paid_on.year) not in fees
        if not is_new and not new_fee:
            plan.unchanged += 1
            continue
        plan.lines.append(MemberLine(number, line.agent_id, str(line.agent), joined, fee if new_fee else None,
                                     paid_on if new_fee else None, is_new))
    if number == 1:
        raise RosterFileError(_("Le fichier ne contient aucune ligne sous la ligne des titres."))
    return plan
