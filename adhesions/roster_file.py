"""Reading a roster spreadsheet as French HR offices produce them.

CSV (";" or "," separated; UTF-8 with or without BOM, or Windows-1252) or XLSX; columns
found by header name whatever their order, case and accents; dates dd/mm/yyyy. Every
problem is reported with its line, its column, the value and what is wrong, in French.
"""

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from adhesions.models import Employment
from cnas.exports import unneutralise
from cnas.validators import validate_french_postcode

MAX_LINES = 100_000


class RosterFileError(Exception):
    """The file as a whole cannot be read: nothing is checked line by line."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    aliases: tuple[str, ...]
    required: bool = False


COLUMNS = [
    Column("employee_number", "matricule", ("matricule", "n matricule", "numero matricule", "no matricule",
                                            "numero d agent", "num agent", "identifiant agent"), True),
    Column("last_name", "nom", ("nom", "nom d usage", "nom usuel", "nom de famille"), True),
    Column("first_name", "prénom", ("prenom", "prenoms"), True),
    Column("birth_date", "date de naissance", ("date de naissance", "naissance", "date naissance", "ne le",
                                               "nee le", "ne e le"), True),
    Column("start_date", "date d'entrée", ("date d entree", "date entree", "entree", "date d embauche",
                                           "date embauche", "date d arrivee", "entree dans la collectivite"), True),
    Column("email", "e-mail", ("e mail", "email", "courriel", "adresse e mail", "adresse email", "mail",
                               "adresse electronique")),
    Column("status", "statut", ("statut", "situation", "position", "etat")),
    Column("end_date", "date de sortie", ("date de sortie", "date sortie", "sortie", "date de depart",
                                          "date depart", "date de fin")),
    Column("end_reason", "motif de sortie", ("motif de sortie", "motif sortie", "motif", "motif de depart")),
    Column("birth_name", "nom de naissance", ("nom de naissance", "nom de jeune fille")),
    Column("sex", "sexe", ("sexe", "civilite", "genre")),
    Column("phone", "téléphone", ("telephone", "tel", "portable", "telephone portable")),
    Column("address", "adresse", ("adresse", "adresse postale", "rue")),
    Column("postcode", "code postal", ("code postal", "cp")),
    Column("city", "commune", ("commune", "ville", "localite")),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}

STATUS_WORDS = {
    "working": ("actif", "active", "en activite", "activite", "titulaire", "stagiaire", "contractuel",
                "contractuelle", "en poste", "a"),
    "retired": ("retraite", "retraitee", "en retraite", "r"),
    "left": ("sorti", "sortie", "parti", "partie", "radie", "radiee", "depart", "s"),
}
REASON_WORDS = {
    Employment.EndReason.TRANSFER: ("mutation", "transfert", "detachement", "disponibilite"),
    Employment.EndReason.RETIREMENT: ("retraite", "depart a la retraite"),
    Employment.EndReason.RESIGNATION: ("demission",),
    Employment.EndReason.DEATH: ("deces",),
    Employment.EndReason.END_OF_CONTRACT: ("fin de contrat", "fin de cdd", "fin contrat"),
    Employment.EndReason.OTHER: ("autre", "licenciement", "revocation"),
}
SEX_WORDS = {"F": ("f", "femme", "mme", "madame"), "M": ("m", "h", "homme", "m.", "monsieur", "mr")}


def normalize(text: str) -> str:
    """'Date d’entrée ' -> 'date d entree'."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    kept = "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", kept.lower()).strip()


ALIAS_TO_KEY = {alias: column.key for column in COLUMNS for alias in column.aliases}


@dataclass
class RowError:
    line: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class Row:
    line: int
    values: dict = field(default_factory=dict)  # key -> cleaned value (None when empty)

    def __getattr__(self, name):
        try:
            return self.values[name]
        except KeyError as exc:
            raise AttributeError(name) from exc


@dataclass
class Table:
    columns: list[str]  # keys found, in file order
    rows: list[Row]
    errors: list[RowError]


# --- Reading ------------------------------------------------------------------------------

def _cells_from_csv(data: bytes) -> Iterator[list]:
    if b"\x00" in data[:8192]:
        raise RosterFileError(_("Ce fichier n'est pas un fichier texte CSV (contenu binaire). "
                                "Enregistrez votre tableau au format CSV ou XLSX."))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise RosterFileError(_("L'encodage du fichier n'est pas reconnu : enregistrez-le en UTF-8 "
                                    "ou en Windows-1252.")) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    if first_line.count("\t") > max(first_line.count(";"), first_line.count(",")):
        delimiter = "\t"
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise RosterFileError(_("Le fichier CSV est mal formé : %(error)s") % {"error": exc}) from exc


def _cells_from_xlsx(data: bytes) -> Iterator[list]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RosterFileError(_("Ce fichier XLSX est illisible ou endommagé.")) from exc
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
    finally:
        workbook.close()


def read_cells(data: bytes, filename: str) -> Iterator[list]:
    """The file's rows of cells, whatever its format; RosterFileError when unreadable."""
    name = filename.lower()
    if not data.strip():
        raise RosterFileError(_("Le fichier est vide."))
    if name.endswith(".xls"):
        raise RosterFileError(_("L'ancien format Excel (.xls) n'est pas accepté : enregistrez le tableau "
                                "au format .xlsx ou .csv."))
    if not name.endswith((".csv", ".xlsx", ".txt")):
        raise RosterFileError(_("Type de fichier non accepté : déposez un fichier .csv ou .xlsx."))
    if data[:4] == b"PK\x03\x04":
        return _cells_from_xlsx(data)
    if name.endswith(".xlsx"):
        raise RosterFileError(_("Ce fichier porte l'extension .xlsx mais n'est pas un classeur Excel."))
    return _cells_from_csv(data)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return unneutralise(re.sub(r"\s+", " ", str(value)).strip())  # an export's "'=Dupont" is "=Dupont"


def parse_table(data: bytes, filename: str, *, today: datetime.date) -> Table:
    cells = read_cells(data, filename)
    header = None
    for raw in cells:
        if any(_text(c) for c in raw):
            header = [normalize(_text(c)) for c in raw]
            break
    if header is None:
        raise RosterFileError(_("Le fichier est vide."))
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = ALIAS_TO_KEY.get(name)
        if key and key not in positions:
            positions[key] = index
    missing = [c.label for c in COLUMNS if c.required and c.key not in positions]
    if missing:
        raise RosterFileError(
            _("Colonnes obligatoires absentes : %(missing)s. La première ligne doit donner les noms des "
              "colonnes (matricule, nom, prénom, date de naissance, date d'entrée).") % {"missing": ", ".join(missing)}
        )
    rows, errors = [], []
    seen_numbers: dict[str, int] = {}
    line = 1
    for raw in cells:
        line += 1
        if line > MAX_LINES + 1:
            raise RosterFileError(_("Le fichier dépasse %(max)s lignes : découpez-le.") % {"max": MAX_LINES})
        texts = {key: _text(raw[pos]) if pos < len(raw) else "" for key, pos in positions.items()}
        if not any(texts.values()):
            continue
        row, row_errors = clean_row(line, texts, today=today)
        number = texts.get("employee_number", "")
        if number:
            if number in seen_numbers:
                row_errors.append(RowError(line, "matricule", number, _(
                    "Matricule en double : déjà utilisé ligne %(line)s.") % {"line": seen_numbers[number]}))
            else:
                seen_numbers[number] = line
        rows.append(row)
        errors.extend(row_errors)
    if not rows:
        raise RosterFileError(_("Le fichier ne contient aucune ligne d'agent sous la ligne des titres."))
    return Table(columns=list(positions), rows=rows, errors=errors)


# --- Cleaning one line ----------------------------------------------------------------------

DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")


def parse_date(text: str) -> datetime.date | None:
    for fmt in DATE_FORMATS:
        try:
            value = datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if fmt == "%d/%m/%y" and value.year > datetime.date.today().year:
            value = value.replace(year=value.year - 100)
        return value
    return None


def _word(text: str, table: dict) -> str | None:
    wanted = normalize(text)
    for key, words in table.items():
        if wanted in words:
            return key
    return None


def clean_row(line: int, texts: dict[str, str], *, today: datetime.date) -> tuple[Row, list[RowError]]:
    errors: list[RowError] = []
    values: dict = {}

    def error(key: str, message: str) -> None:
        errors.append(RowError(line, COLUMN_BY_KEY[key].label, texts.get(key, ""), message))

    for column in COLUMNS:
        if column.required and column.key in texts and not texts[column.key]:
            error(column.key, _("Valeur obligatoire manquante."))

    number = texts.get("employee_number", "")
    if len(number) > 32:
        error("employee_number", _("Le matricule dépasse 32 caractères."))
    values["employee_number"] = number or None
    for key, limit in (("last_name", 150), ("first_name", 150), ("birth_name", 150), ("city", 150),
                       ("address", 255), ("phone", 20)):
        if key in texts:
            value = texts[key]
            if len(value) > limit:
                error(key, _("Valeur trop longue (%(limit)s caractères au plus).") % {"limit": limit})
            values[key] = value

    for key in ("birth_date", "start_date", "end_date"):
        if key not in texts or not texts[key]:
            values[key] = None
            continue
        value = parse_date(texts[key])
        if value is None:
            error(key, _("Date invalide : écrivez-la jj/mm/aaaa."))
        elif value > today:
            error(key, _("Cette date est dans le futur."))
            value = None
        values[key] = value

    birth, start, end = values["birth_date"], values["start_date"], values.get("end_date")
    if birth and (today.year - birth.year > 110 or today.year - birth.year < 14):
        error("birth_date", _("Date de naissance invraisemblable pour un agent."))
    if birth and start and start < birth + datetime.timedelta(days=14 * 365):
        error("start_date", _("La date d'entrée précède les 14 ans de l'agent."))
    if start and end and end < start:
        error("end_date", _("La date de sortie précède la date d'entrée."))

    if texts.get("email"):
        email = texts["email"].lower()
        try:
            validate_email(email)
        except ValidationError:
            error("email", _("Adresse e-mail invalide."))
        values["email"] = email
    elif "email" in texts:
        values["email"] = ""

    status = "working"
    if texts.get("status"):
        status = _word(texts["status"], STATUS_WORDS)
        if status is None:
            error("status", _("Statut inconnu : écrivez « actif », « retraité » ou « sorti »."))
            status = "working"
    reason = None
    if texts.get("end_reason"):
        reason = _word(texts["end_reason"], REASON_WORDS)
        if reason is None:
            error("end_reason", _("Motif inconnu : mutation, retraite, démission, décès, fin de contrat ou autre."))
    if status == "retired":
        reason = Employment.EndReason.RETIREMENT
    elif status == "left" and reason is None:
        reason = Employment.EndReason.OTHER
    elif status == "working" and end:
        error("end_date", _("Un agent actif n'a pas de date de sortie : indiquez son statut (retraité, sorti)."))
    if status in ("retired", "left") and not end and "end_date" not in {e.column for e in errors}:
        label = COLUMN_BY_KEY["end_date"].label
        errors.append(RowError(line, label, "", _("Date de sortie obligatoire pour un agent retraité ou sorti.")))
    values["status"], values["end_reason"] = status, reason or ""

    if texts.get("sex"):
        sex = _word(texts["sex"], SEX_WORDS)
        if sex is None:
            error("sex", _("Sexe inconnu : F ou M."))
        values["sex"] = sex or ""
    if texts.get("postcode"):
        try:
            validate_french_postcode(texts["postcode"])
        except ValidationError:
            error("postcode", _("Code postal invalide (5 chiffres)."))
        values["postcode"] = texts["postcode"]
    elif "postcode" in texts:
        values["postcode"] = ""
    return Row(line=line, values=values), errors
