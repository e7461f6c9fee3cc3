"""Files that cannot attack their reader, headers on every page, exports without formulas,
rate limits that still answer without Redis, and a field history no code path can skip."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from cnas.pdf import blank_pdf
from cnas.private_files import check_upload
from prestations import services
from tests import world
from tests.prestations.conftest import prestation
from tests.security.conftest import staff

pytestmark = pytest.mark.django_db
PNG_AND_HTML = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17
                + b"<html><body><script>alert(document.cookie)</script></body></html>")


def pdf_with(change) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    change(writer)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def launch(writer):
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})


HOSTILE_PDFS = {
    "javascript": pdf_with(lambda w: w.add_open_action(JavaScript("app.alert('x');"))),
    "launch": pdf_with(launch),
    "embedded file": pdf_with(lambda w: w.add_attachment("programme.exe", b"MZ\x90\x00")),
    "encrypted": pdf_with(lambda w: w.encrypt("secret")),
}
# the same script with its name written in hexadecimal escapes, which a plain search would miss
HOSTILE_PDFS["hidden name"] = HOSTILE_PDFS["javascript"].replace(b"/JavaScript", b"/J#61vaScript").replace(
    b"/JS ", b"/J#53 ")


@pytest.mark.parametrize("kind", list(HOSTILE_PDFS))
def test_pdfs_with_active_content_are_refused_in_french(kind):
    with pytest.raises(ValidationError) as refused:
        check_upload(SimpleUploadedFile("avis.pdf", HOSTILE_PDFS[kind]))
    assert refused.value.messages[0].startswith("Ce PDF ")


def test_a_plain_pdf_a_png_and_a_jpeg_are_accepted():
    assert check_upload(SimpleUploadedFile("a.pdf", blank_pdf())) == "application/pdf"
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
    accept = ("application/pdf", "image/png", "image/jpeg")
    assert check_upload(SimpleUploadedFile("x.png", png), accept=accept) == "image/png"
    assert check_upload(SimpleUploadedFile("x.jpg", jpeg), accept=accept) == "image/jpeg"
    with pytest.raises(ValidationError, match="n'est pas un PDF"):
        check_upload(SimpleUploadedFile("page.pdf", b"<html><script>alert(1)</script></html>"))


def test_a_png_that_is_also_html_is_served_as_an_image_that_runs_nothing(tenant_a, client):
    aid = prestation(code="sejour", amount_rule="share", fixed_amount=None, share_percent=Decimal("40"),
                     once_per_event=False, documents=["Facture"])
    demande = services.save_draft(actor=None, agent=tenant_a.agent, prestation=aid, expense=Decimal("100"))
    document = services.add_document(actor=None, demande=demande, kind=aid.required_documents.get(),
                                     uploaded=SimpleUploadedFile("page.html", PNG_AND_HTML))
    assert document.content_type == "image/png"
    client.force_login(tenant_a.agent_user)
    response = client.get(reverse("espace:demande_file", args=[demande.pk, document.pk]))
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
    assert 'filename="page.png"' in response["Content-Disposition"]
    assert "sandbox" in response["Content-Security-Policy"] and "script" not in response["Content-Security-Policy"]


def test_every_page_has_its_security_headers(tenant_a, client):
    pages = [("/", None), ("/espace/", tenant_a.agent_user), ("/admin/", staff("s@cnas.test", "Superviseur",
                                                                            national=True))]
    for url, user in pages:
        if user:
            client.force_login(user)
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        script = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
        assert "'self'" in script and "unsafe-inline" not in script and "unsafe-eval" not in script, url
        assert "object-src 'none'" in policy and "frame-ancestors 'self'" in policy
        assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"y\")", "+33612345678", "-2+3", "@SUM(A1)", "=1+1"])
def test_exports_neutralise_formulas_and_import_back_unchanged(tenant_a, client, name,
                                                              django_capture_on_commit_callbacks):
    world.hire(tenant_a.employer, datetime.date(2019, 1, 1), number="F1", last_name=name.strip())
    client.force_login(tenant_a.correspondent)
    text = client.get(reverse("collectivite:roster_csv", args=[tenant_a.employer.pk])).content.decode()
    line = next(row for row in text.splitlines() if row.startswith("F1;"))
    assert line.split(";")[1].startswith("'") or line.split(";")[1].startswith("\"'")
    workbook = load_workbook(io.BytesIO(client.get(reverse("collectivite:roster_xlsx",
                                                           args=[tenant_a.employer.pk])).content))
    cells = next(row for row in workbook.active.iter_rows() if row[0].value == "F1")
    assert cells[1].data_type == "s" and str(cells[1].value).startswith("'")
    from adhesions import services as adhesion_services

    plan, _counts = adhesion_services.import_roster_now(actor=None, adherent=tenant_a.employer,
                                                       data=text.encode(), filename="export.csv",
                                                       is_complete=False, apply=False)
    assert plan.counts["updated"] == 0 and plan.counts["created"] == 0 and not plan.errors


@override_settings(CACHES={"default": {"BACKEND": "cnas.cache.ResilientRedisCache",
                                       "LOCATION": "redis://127.0.0.1:6399/0", "KEY_PREFIX": "down"}})
def test_rate_limits_still_answer_in_french_when_redis_is_unreachable(tenant_a):
    client = Client()
    for _ in range(6):
        response = client.post("/accounts/login/", {"login": tenant_a.agent_user.email, "password": "faux"})
        assert response.status_code == 200
    assert "trop de tentatives" in response.content.decode().lower()  # still counted, from memory
    response = client.post(reverse("attach"), {"siret": "1", "employee_number": "2", "birth_date": "1990-01-01"})
    assert response.status_code in (200, 302)


def test_a_change_of_iban_is_traced_whatever_path_makes_it(tenant_a, client):
    from accounts import services as account_services

    account_services.update_bank_details(actor=None, agent=tenant_a.agent, iban="FR7630004000031234567890143",
                                         bic="")
    with connection.cursor() as cursor:  # even raw SQL cannot skip the trail
        cursor.execute("UPDATE accounts_agent SET iban = %s WHERE id = %s",
                       ["FR7610107001011234567890129", tenant_a.agent.pk])
    superviseur = staff("h@cnas.test", "Superviseur", national=True)
    client.force_login(superviseur)
    page = client.get(f"/admin/accounts/agent/{tenant_a.agent.pk}/history/").content.decode()
    assert "FR76 •••• 0143" in page and "FR76 •••• 0129" in page
    assert "FR7610107001011234567890129" not in page  # never the full number on a page
    history = list(tenant_a.agent.field_history.order_by("pgh_id").values_list("iban", flat=True))
    assert history[-2:] == ["", "FR7630004000031234567890143"]  # the values before each change (last two)
