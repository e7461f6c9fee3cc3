"""Yearly payroll declarations, staff corrections, and the public form to join."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from adhesions.models import Adherent, Invitation, MembershipApplication, PayrollDeclaration
from cnas.models import AuditEntry
from cnas.pdf import blank_pdf
from tests import factories
from tests.conftest import enroll_totp

pytestmark = pytest.mark.django_db
LAST_YEAR = datetime.date.today().year - 1


@pytest.fixture
def rh(client, tenant_a):
    client.force_login(tenant_a.correspondent)
    return client


def declare(rh, tenant, **data):
    form = {"year": LAST_YEAR, "gross_payroll": "1 234 567,89", "working_headcount": "42",
            "retired_headcount": "7", **data}
    return rh.post(reverse("collectivite:payroll", args=[tenant.employer.pk]), form)


def test_declaration_in_french_format_and_history(rh, tenant_a):
    page = rh.get(reverse("collectivite:payroll", args=[tenant_a.employer.pk]))
    assert page.context["form"].initial["working_headcount"] == 1  # from the roster
    assert declare(rh, tenant_a).status_code == 302
    declaration = PayrollDeclaration.objects.get()
    assert declaration.gross_payroll == Decimal("1234567.89") and declaration.declared_by == tenant_a.correspondent
    declare(rh, tenant_a, gross_payroll="1300000")
    current = PayrollDeclaration.objects.filter(adherent=tenant_a.employer).current()
    assert [d.gross_payroll for d in current] == [Decimal("1300000.00")]
    page = rh.get(reverse("collectivite:payroll", args=[tenant_a.employer.pk])).content.decode()
    assert "remplacée" in page and "1\u202f300\u202f000,00\xa0€" in page


@pytest.mark.parametrize("data, field", [
    ({"gross_payroll": "-5"}, "gross_payroll"), ({"gross_payroll": "beaucoup"}, "gross_payroll"),
    ({"year": "1990"}, "year"), ({"year": str(LAST_YEAR + 5)}, "year"), ({"working_headcount": "-1"},
                                                                          "working_headcount"),
])
def test_bad_declarations_change_nothing(rh, tenant_a, data, field):
    response = declare(rh, tenant_a, **data)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not PayrollDeclaration.objects.exists()


def test_staff_correct_a_declaration_in_the_admin(client, rh, tenant_a):
    declare(rh, tenant_a)
    staff = enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    url = reverse("admin:adhesions_payrolldeclaration_add")
    data = {"adherent": tenant_a.employer.pk, "year": LAST_YEAR, "gross_payroll": "1250000.00",
            "working_headcount": 42, "retired_headcount": 7, "reason": ""}
    assert client.post(url, data).status_code == 200  # a reason is required
    data["reason"] = "Erreur de saisie signalée par la collectivité"
    assert client.post(url, data).status_code == 302
    assert PayrollDeclaration.objects.count() == 2
    current = PayrollDeclaration.objects.filter(adherent=tenant_a.employer).current().get()
    assert current.is_correction and current.declared_by == staff and current.gross_payroll == Decimal("1250000")
    entry = AuditEntry.objects.get(action="payroll.correct")
    assert entry.reason.startswith("Erreur de saisie") and "remplace" in entry.changes
    change_url = reverse("admin:adhesions_payrolldeclaration_change", args=[current.pk])
    assert client.post(change_url, data).status_code == 403  # declarations are never edited


def test_declarations_of_another_adherent_answer_404(rh, tenant_b):
    assert rh.get(reverse("collectivite:payroll", args=[tenant_b.employer.pk])).status_code == 404
    assert declare(rh, tenant_b).status_code == 404
    assert not PayrollDeclaration.objects.exists()


# --- Joining --------------------------------------------------------------------------------

def pdf(name="deliberation.pdf", content=None):
    return SimpleUploadedFile(name, content or blank_pdf(), "application/pdf")


def application_form(**data):
    return {"name": "Commune de Neuville", "siret": "21420200400017", "kind": "collectivity",
            "category": "commune", "address": "1 place de la Mairie", "postcode": "42200", "city": "Neuville",
            "contact_first_name": "Anne", "contact_last_name": "Leclerc", "contact_role": "DRH",
            "contact_email": "anne.leclerc@neuville.example", "contact_phone": "04 77 00 00 00",
            "start_date": (datetime.date.today().replace(day=1) + datetime.timedelta(days=32)).replace(
                day=1).isoformat(), "deliberation": pdf(), **data}


def test_join_then_staff_approve(client, db, django_capture_on_commit_callbacks):
    from stdnum import luhn

    siren = "21420200" + luhn.calc_check_digit("21420200")
    siret = siren + "0001" + luhn.calc_check_digit(siren + "0001")
    response = client.post(reverse("apply"), application_form(siret=siret))
    assert response.status_code == 200 and "Demande envoyée" in response.content.decode()
    application = MembershipApplication.objects.get()
    assert application.deliberation.read().startswith(b"%PDF")

    staff = enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    approve = reverse("admin:adhesions_membershipapplication_object_action", args=[application.pk, "approuver"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(approve, {})
    assert "Ce champ est obligatoire" in response.content.decode()  # the delegation first
    region = factories.RegionFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(approve, {"region": region.pk})
    assert response.status_code == 302
    adherent = Adherent.objects.get(siret=siret)
    assert adherent.current_adhesion(adherent.adhesions.get().start_date).status == "active"
    invitation = Invitation.objects.get(adherent=adherent)
    assert invitation.kind == "correspondent" and mail.outbox[-1].to == ["anne.leclerc@neuville.example"]
    file_url = reverse("admin:adhesions_membershipapplication_file", args=[application.pk])
    assert client.get(file_url).status_code == 200
    client.logout()
    assert client.get(file_url).status_code == 302  # to the login page


@pytest.mark.parametrize("data, field, message", [
    ({"siret": "21420200400018"}, "siret", "SIRET valide"),
    ({"deliberation": SimpleUploadedFile("d.pdf", b"GIF89a not a pdf")}, "deliberation", "pas un PDF"),
    ({"kind": "cos"}, "category", "association"),
    ({"start_date": "2001-01-01"}, "start_date", "passée"),
    ({"contact_email": "pas-un-mail"}, "contact_email", "valide"),
    ({"postcode": "4220"}, "postcode", "code postal"),
])
def test_join_with_bad_input(client, db, data, field, message):
    response = client.post(reverse("apply"), application_form(**data))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not MembershipApplication.objects.exists()


def test_existing_adherent_cannot_apply_again(client, tenant_a):
    response = client.post(reverse("apply"), application_form(siret=tenant_a.employer.siret))
    assert "déjà adhérente" in " ".join(response.context["form"].errors["siret"])
