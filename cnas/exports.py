"""Every CSV and XLSX export of the portal goes through here: semicolons and a UTF-8 BOM (what
French Excel opens), dates dd/mm/yyyy, and no cell that a spreadsheet would run as a formula —
a name typed "=HYPERLINK(…)" or "+33…" is written with a leading apostrophe, as OWASP advises.
The roster's import takes that apostrophe off again (`unneutralise`), so an export imports back."""

import csv
import datetime
import io
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A text cell that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """The text as it was before ``neutralise`` (for files that come back from an export)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, Decimal):
        return f"{value:f}".replace(".", ",")
    return str(neutralise(value) if isinstance(value, str) else value)


def csv_rows(header: list[str], rows: Iterable[Iterable]) -> Iterable[str]:
    """The lines of the CSV file, one at a time (a streaming response can send them as they come)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([neutralise(h) for h in header])
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([_csv_text(value) for value in row])
        yield buffer.getvalue()


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    response = HttpResponse("".join(csv_rows(header, rows)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_bytes(sheet_title: str, header: list[str], rows: Iterable[Iterable]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title[:31])

    def cells(values):
        for value in values:
            cell = WriteOnlyCell(sheet, value=neutralise(value))
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it begins with
            elif isinstance(value, datetime.date):
                cell.number_format = "DD/MM/YYYY"
            yield cell

    sheet.append(list(cells(header)))
    for row in rows:
        sheet.append(list(cells(row)))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, sheet_title: str, header: list[str], rows: Iterable[Iterable]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(sheet_title, header, rows), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
