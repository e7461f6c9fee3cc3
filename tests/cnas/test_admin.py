"""The admin: every model registered, lists with search and filters, audit history."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from cnas import audit
from cnas.pdf import blank_pdf
from tests import factories
from tests.conftest import enroll_totp

pytestmark = pytest.mark.django_db

OUR_APPS = {"cnas", "accounts", "adhesions", "cos", "prestations"}


def test_every_model_of_our_apps_is_registered():
    """Each model of the portal's apps has its admin (the field history tables, kept by the database's
    triggers, are read on each object's « Historique » page instead)."""
    from pghistory.models import Event

    for model in apps.get_models():
        if model._meta.app_label in OUR_APPS and not issubclass(model, Event):
            assert admin.site.is_registered(model), model


@pytest.fixture
def superuser_client(client, tenant_a):
    user = enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True))
    client.force_login(user)
    return client


def test_every_changelist_and_change_page_answers(superuser_client, tenant_a):
    """On the demo world, with an object of every kind, private files included."""
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command

    from accounts.models import TaxDeclaration
    from adhesions.models import BankStatement, RosterImport

    call_command("seed_demo", verbosity=0)
    RosterImport.objects.create(adherent=tenant_a.employer, original_name="e.csv", sha256="0", size=1,
                                file=SimpleUploadedFile("e.csv", b"x"))
    TaxDeclaration.objects.create(agent=tenant_a.agent, year=datetime.date.today().year - 1, reference_income=1,
                                  shares=1, notice=SimpleUploadedFile("a.pdf", blank_pdf()))
    BankStatement.objects.create(original_name="r.csv", format="csv", file=SimpleUploadedFile("r.csv", b"x"))
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        url = reverse("admin:{}_{}_changelist".format(*info))
        assert superuser_client.get(url, {"q": "a"}).status_code == 200, url
        obj = model.objects.first()
        if obj is not None:
            assert superuser_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code == 200


def test_admin_is_titled_for_the_national_body(superuser_client):
    assert "CNAS — administration" in superuser_client.get("/admin/").content.decode()


def test_history_shows_the_audit_trail(superuser_client, tenant_a):
    audit.record(actor=None, action="adhesion.suspend", target=tenant_a.employer, reason="Retard de paiement")
    url = reverse("admin:adhesions_adherent_history", args=[tenant_a.employer.pk])
    page = superuser_client.get(url).content.decode()
    assert "adhesion.suspend" in page and "Retard de paiement" in page


def test_admin_save_is_audited(superuser_client, tenant_a):
    from cnas.models import AuditEntry

    region = tenant_a.employer.region
    url = reverse("admin:adhesions_region_change", args=[region.pk])
    response = superuser_client.post(url, {"code": "NEW", "name": "Nouvelle région",
                                           "opening_hours": region.opening_hours})  # the desk, unchanged
    assert response.status_code == 302
    entry = AuditEntry.objects.for_object(tenant_a.employer.region).get()
    assert entry.action == "admin.change" and entry.changes == {"champs": ["code", "name"]}


def test_regional_staff_member_reaches_the_admin(client, staff_user):
    client.force_login(staff_user)
    assert client.get("/admin/").status_code == 200


def test_a_hostile_crontab_gets_the_forms_errors_not_a_500(superuser_client):
    """Found by the hostile-input test: the crontab page parsed the invalid fields to show them « en clair »."""
    from django_celery_beat.models import CrontabSchedule

    response = superuser_client.post(reverse("admin:django_celery_beat_crontabschedule_add"), {
        "minute": "-inf", "hour": "*", "day_of_month": "LEäê", "month_of_year": "*", "day_of_week": "*",
        "timezone": "Europe/Paris", "periodictask_set-TOTAL_FORMS": "0", "periodictask_set-INITIAL_FORMS": "0",
        "periodictask_set-MIN_NUM_FORMS": "0", "periodictask_set-MAX_NUM_FORMS": "0"})
    assert response.status_code == 200 and "expression invalide" in response.content.decode()
    assert not CrontabSchedule.objects.filter(minute="-inf").exists()
    assert superuser_client.get(reverse("admin:django_celery_beat_crontabschedule_changelist")).status_code == 200
