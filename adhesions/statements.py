"""Reading bank statements: CSV exports of a bank account, or CAMT.053 XML.

Each credit line gives a date, an amount, a free text and a line identifier (the bank's
own where it gives one), and is matched to a call by the payment reference in its text.
"""

import csv
import datetime
import hashlib
import io
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext as _

from adhesions.roster_file import normalize, parse_date
from cnas.forms import parse_amount as parse_money_text

REFERENCE = re.compile(r"\b([CR])\s?(\d{4})\s?-\s?(\d{6})(?:\s?-\s?(\d+))?\b", re.IGNORECASE)
CAMT_NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.\d+\}")


class StatementError(Exception):
    pass


@dataclass(frozen=True)
class StatementLine:
    line_id: str
    booked_on: datetime.date
    amount: Decimal  # positive: credit
    text: str

    @property
    def reference(self) -> str | None:
        found = REFERENCE.search(self.text)
        if not found:
            return None
        kind, year, number, suffix = found.groups()
        return f"{kind.upper()}{year}-{number}" + (f"-{suffix}" if suffix else "")


MAX_AMOUNT = Decimal("9999999999.99")  # what a money column holds


def checked_amount(value: Decimal) -> Decimal:
    """A finite amount of at most two decimals that a money column holds; ValueError otherwise
    (NaN, Infinity, 1e309, 1e20, 12.345)."""
    if not value.is_finite() or abs(value) > MAX_AMOUNT or value != value.quantize(Decimal("0.01")):
        raise ValueError(value)
    return value.quantize(Decimal("0.01"))


def parse_amount(text: str) -> Decimal:
    """An amount of a CSV statement, typed the French way or not (cnas.forms.parse_amount)."""
    return checked_amount(parse_money_text(text))


def _line_ids(lines: list[tuple[datetime.date, Decimal, str, str]]) -> list[StatementLine]:
    """Lines without a bank identifier get one from their content (and rank among twins),
    so that the same statement imported twice is recognised line by line."""
    seen: Counter = Counter()
    result = []
    for booked_on, amount, text, bank_id in lines:
        if not bank_id:
            key = f"{booked_on.isoformat()}|{amount}|{text}"
            seen[key] += 1
            bank_id = "h:" + hashlib.sha256(f"{key}|{seen[key]}".encode()).hexdigest()[:40]
        result.append(StatementLine(bank_id[:200], booked_on, amount, text))
    return result


def read_statement(data: bytes, filename: str) -> tuple[str, list[StatementLine]]:
    if not data.strip():
        raise StatementError(_("Le relevé est vide."))
    head = data.lstrip()[:200]
    if head.startswith(b"<") or filename.lower().endswith(".xml"):
        return "camt053", _read_camt(data)
    if b"\x00" in data[:4096] or not filename.lower().endswith((".csv", ".txt")):
        raise StatementError(_("Format non reconnu : déposez un relevé CSV ou CAMT.053 (XML)."))
    return "csv", _read_csv(data)


def _read_csv(data: bytes) -> list[StatementLine]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") >= first.count(",") else ",")
    header = [normalize(h) for h in next(reader, [])]
    def find(*names):
        return next((i for i, h in enumerate(header) if h in names), None)
    date_i = find("date", "date operation", "date de valeur", "date valeur", "date comptable")
    amount_i = find("montant", "credit", "montant eur", "montant en euros")
    text_i = find("libelle", "libelle operation", "reference", "motif", "detail")
    id_i = find("reference banque", "identifiant", "id")
    if date_i is None or amount_i is None or text_i is None:
        raise StatementError(_("Colonnes attendues dans le relevé CSV : date, montant et libellé."))
    lines, errors = [], []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            booked_on = parse_date(row[date_i].strip())
            amount = parse_amount(row[amount_i])
        except (IndexError, InvalidOperation, ValueError):
            booked_on, amount = None, None
        if booked_on is None or amount is None:
            errors.append(number)
            continue
        lines.append((booked_on, amount, row[text_i].strip() if text_i < len(row) else "",
                      row[id_i].strip() if id_i is not None and id_i < len(row) else ""))
    if errors:
        raise StatementError(_("Lignes illisibles (date ou montant) : %(lines)s. Rien n'a été enregistré.") % {
            "lines": ", ".join(map(str, errors[:20]))})
    return _line_ids(lines)


def _read_camt(data: bytes) -> list[StatementLine]:
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise StatementError(_("Ce fichier XML est illisible ou dangereux (%(error)s).") % {"error": exc}) from exc
    match = CAMT_NAMESPACE.match(root.tag)
    if not match:
        raise StatementError(_("Ce fichier XML n'est pas un relevé CAMT.053."))
    ns = {"c": match.group(0)[1:-1]}
    lines = []
    for entry in root.iterfind(".//c:Stmt/c:Ntry", ns):
        indicator = entry.findtext("c:CdtDbtInd", default="", namespaces=ns)
        amount_text = entry.findtext("c:Amt", default="", namespaces=ns)
        date_text = (entry.findtext("c:ValDt/c:Dt", namespaces=ns) or entry.findtext("c:BookgDt/c:Dt", namespaces=ns)
                     or "")
        try:
            amount = checked_amount(Decimal(amount_text.strip()))
            booked_on = datetime.date.fromisoformat(date_text[:10])
        except (InvalidOperation, ValueError) as exc:
            raise StatementError(_("Écriture illisible dans le relevé CAMT.053 (montant ou date).")) from exc
        if indicator == "DBIT":
            amount = -amount
        texts = [t.text or "" for t in entry.iterfind(".//c:RmtInf/c:Ustrd", ns)]
        texts += [t.text or "" for t in entry.iterfind(".//c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns)]
        texts += [entry.findtext("c:AddtlNtryInf", default="", namespaces=ns)]
        bank_id = (entry.findtext("c:AcctSvcrRef", namespaces=ns) or entry.findtext("c:NtryRef", namespaces=ns)
                   or entry.findtext(".//c:Refs/c:AcctSvcrRef", namespaces=ns) or "")
        lines.append((booked_on, amount, " ".join(t.strip() for t in texts if t and t.strip()), bank_id))
    if not lines:
        raise StatementError(_("Le relevé CAMT.053 ne contient aucune écriture."))
    return _line_ids(lines)
