"""Reading roster files as French offices produce them, and refusing bad ones clearly."""

import datetime
import io

import pytest
from openpyxl import Workbook

from adhesions.roster_file import RosterFileError, normalize, parse_table

TODAY = datetime.date(2026, 11, 23)
HEADER = "Matricule;Nom;Prénom;Date de naissance;E-mail;Date d'entrée;Statut"
LINE = "A1;Dupont;Jérôme;05/03/1980;j.dupont@exemple.test;01/09/2010;actif"


def table(text: str, name="effectif.csv", encoding="utf-8"):
    return parse_table(text.encode(encoding), name, today=TODAY)


def test_header_names_are_found_whatever_order_case_and_accents():
    assert normalize("  Date d’Entrée ") == "date d entree"
    result = table("PRENOM,date naissance,NOM,matricule,Date d'embauche\nJérôme,05/03/1980,Dupont,A1,01/09/2010\n")
    row = result.rows[0]
    assert (row.employee_number, row.last_name, row.first_name) == ("A1", "Dupont", "Jérôme")
    assert row.birth_date == datetime.date(1980, 3, 5) and row.start_date == datetime.date(2010, 9, 1)
    assert result.errors == []


@pytest.mark.parametrize("encoding, bom", [("utf-8", False), ("utf-8", True), ("cp1252", False)])
def test_encodings(encoding, bom):
    data = (HEADER + "\n" + LINE + "\n").encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    result = parse_table(data, "effectif.csv", today=TODAY)
    assert result.rows[0].first_name == "Jérôme"
    assert result.rows[0].email == "j.dupont@exemple.test"


def test_comma_separated_and_windows_line_endings():
    result = table(HEADER.replace(";", ",") + "\r\n" + LINE.replace(";", ",") + "\r\n")
    assert result.rows[0].last_name == "Dupont" and result.errors == []


def test_xlsx_with_real_dates_and_numbers():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Nom", "Prénom", "Matricule", "Date de naissance", "Date d'entrée"])
    sheet.append(["Dupont", "Jérôme", 1234, datetime.datetime(1980, 3, 5), "01/09/2010"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_table(buffer.getvalue(), "effectif.xlsx", today=TODAY)
    assert result.rows[0].employee_number == "1234"
    assert result.rows[0].birth_date == datetime.date(1980, 3, 5)


@pytest.mark.parametrize("data, name, message", [
    (b"", "effectif.csv", "vide"),
    (b"   \n  ", "effectif.csv", "vide"),
    (b"Matricule;Nom\n", "effectif.csv", "Colonnes obligatoires absentes : prénom, date de naissance"),
    (b"\x00\x01\x02\x89PNG binary", "effectif.csv", "binaire"),
    (b"%PDF-1.4 whatever", "effectif.pdf", "Type de fichier non accepté"),
    (b"anything", "effectif.xls", "ancien format Excel"),
    (b"Matricule;Nom;Pr\xe9nom", "effectif.xlsx", "n'est pas un classeur Excel"),
    (b"PK\x03\x04 not really a zip", "effectif.xlsx", "illisible"),
    (HEADER.encode() + b"\n", "effectif.csv", "aucune ligne"),
])
def test_unreadable_files_get_a_clear_message(data, name, message):
    with pytest.raises(RosterFileError, match=message):
        parse_table(data, name, today=TODAY)


def errors_of(*lines, header=HEADER):
    return [(e.line, e.column, e.message) for e in table("\n".join([header, *lines]) + "\n").errors]


def test_line_errors_say_line_column_value_and_what_is_wrong():
    result = table("\n".join([
        HEADER,
        "A1;Dupont;Jérôme;31/02/1980;pas-un-mail;01/09/2010;actif",
        "A2;;Anne;05/03/2030;;01/09/2010;actif",
        "A3;Roux;Paul;05/03/1980;;01/09/2040;en vacances",
        "A1;Autre;Ligne;05/03/1981;;01/09/2012;actif",
    ]) + "\n")
    found = {(e.line, e.column): (e.value, e.message) for e in result.errors}
    assert found[(2, "date de naissance")] == ("31/02/1980", "Date invalide : écrivez-la jj/mm/aaaa.")
    assert found[(2, "e-mail")][1] == "Adresse e-mail invalide."
    assert found[(3, "nom")][1] == "Valeur obligatoire manquante."
    assert found[(3, "date de naissance")] == ("05/03/2030", "Cette date est dans le futur.")
    assert found[(4, "date d'entrée")] == ("01/09/2040", "Cette date est dans le futur.")
    assert "Statut inconnu" in found[(4, "statut")][1]
    assert found[(5, "matricule")] == ("A1", "Matricule en double : déjà utilisé ligne 2.")


def test_retired_and_left_need_an_exit_date():
    header = HEADER + ";Date de sortie;Motif de sortie"
    errors = errors_of("A1;Dupont;Jean;05/03/1958;;01/09/1990;retraité;;",
                       "A2;Roux;Paul;05/03/1970;;01/09/1990;sorti;31/12/2020;Mutation",
                       "A3;Roux;Anne;05/03/1970;;01/09/1990;actif;31/12/2020;", header=header)
    assert (2, "date de sortie", "Date de sortie obligatoire pour un agent retraité ou sorti.") in errors
    assert not [e for e in errors if e[0] == 3]
    assert any(e[0] == 4 and e[1] == "date de sortie" for e in errors)
