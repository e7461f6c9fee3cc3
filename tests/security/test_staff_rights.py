"""Roles with the least rights, no escalation, actions checked against the right their effect
needs, and a regional scope that fails closed — in the admin, as staff use it."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from accounts.roles import ROLES, sync_roles
from adhesions import services as adhesion_services
from adhesions.models import Campaign
from prestations.models import Demande, PaymentBatch
from tests import factories, world
from tests.conftest import enroll_totp
from tests.prestations.conftest import granted, prestation, submitted
from tests.security.conftest import staff

pytestmark = pytest.mark.django_db
D = datetime.date


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_roles_are_the_code_and_give_no_personal_data_of_the_framework():
    assert sync_roles() == {role.name: Group.objects.get(name=role.name).permissions.count() for role in ROLES}
    labels = set(Group.objects.filter(name__in=[r.name for r in ROLES])
                 .values_list("permissions__content_type__app_label", flat=True))
    assert not labels & {"account", "mfa", "django_celery_beat", "pghistory", "sessions"}
    supervisor = Group.objects.get(name="Superviseur")
    # reads, relaunches abandoned asynchronous work (which changes no record), and writes the texts of the
    # decision letters and the delegations' desks: no person's record, no money
    assert set(supervisor.permissions.exclude(codename__startswith="view_").values_list("codename", flat=True)) == {
        "retry_outboxitem", "add_letterwording", "change_letterwording", "change_region"}
    # somebody adding a right by hand in the admin loses it at the next migrate
    extra = Permission.objects.get(codename="delete_adherent")
    supervisor.permissions.add(extra)
    sync_roles()
    assert not supervisor.permissions.filter(pk=extra.pk).exists()


@pytest.fixture
def regions(db):
    return (factories.RegionFactory(code="RA", name="Délégation A"),
            factories.RegionFactory(code="RB", name="Délégation B"))


def test_an_administrator_never_escalates(regions):
    region_a, region_b = regions
    admin = staff("admin@cnas.test", "Administrateur", national=True)
    other_admin = staff("admin2@cnas.test", "Administrateur", national=True)
    instructor = staff("instr@cnas.test", "Instructeur", region=region_a)
    client = client_of(admin)
    # his own rights: refused
    url = f"/admin/accounts/user/{admin.pk}/change/"
    page = client.post(url, {"first_name": "A", "last_name": "B", "is_active": "on",
                             "roles": [Group.objects.get(name="Comptable").pk], "is_national": "on"})
    assert "Personne ne modifie ses propres droits" in page.content.decode()
    assert not admin.groups.filter(name="Comptable").exists()
    # the form has no superuser switch and no individual rights: posting them changes nothing
    response = client.post(f"/admin/accounts/user/{instructor.pk}/change/", {
        "first_name": "I", "last_name": "N", "is_active": "on", "roles": [Group.objects.get(name="Instructeur").pk],
        "region": region_b.pk, "is_superuser": "on", "user_permissions": [1, 2, 3]})
    assert response.status_code == 302
    instructor.refresh_from_db()
    assert not instructor.is_superuser and not instructor.user_permissions.exists()
    assert instructor.staff_profile.region == region_b
    # a regional administrator gives neither national scope nor another delegation
    regional = staff("admin-ra@cnas.test", "Administrateur", region=region_a)
    page = client_of(regional).post(f"/admin/accounts/user/{other_admin.pk}/change/", {
        "first_name": "X", "last_name": "Y", "is_active": "on", "is_national": "on",
        "roles": [Group.objects.get(name="Administrateur").pk]})
    assert page.status_code in (200, 302, 404)
    assert other_admin.staff_profile.is_national  # unchanged (he may not even see a national account)
    page = client_of(regional).post("/admin/accounts/user/add/", {
        "email": "nouveau@cnas.test", "first_name": "N", "last_name": "O", "password1": "Un-mot-de-passe-long-42",
        "password2": "Un-mot-de-passe-long-42", "roles": [Group.objects.get(name="Instructeur").pk],
        "region": region_b.pk})
    assert "une autre délégation que la vôtre" in page.content.decode()
    assert not User.objects.filter(email="nouveau@cnas.test").exists()
    # a superuser is not managed from here at all
    root = enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True))
    page = client.post(f"/admin/accounts/user/{root.pk}/change/", {"first_name": "R", "last_name": "T",
                                                                      "roles": [], "is_active": ""})
    root.refresh_from_db()
    assert root.is_active


def test_an_administrator_creates_a_staff_account_with_its_roles(regions):
    admin = staff("admin@cnas.test", "Administrateur", national=True)
    response = client_of(admin).post("/admin/accounts/user/add/", {
        "email": "Nouvelle@CNAS.test", "first_name": "Nina", "last_name": "Roy", "password1": "Un-mot-de-passe-long-42",
        "password2": "Un-mot-de-passe-long-42", "roles": [Group.objects.get(name="Instructeur").pk],
        "region": regions[0].pk})
    assert response.status_code == 302
    user = User.objects.get(email="nouvelle@cnas.test")
    assert user.is_staff and not user.is_superuser and user.has_perm("prestations.instruct_demande")
    assert not user.has_perm("prestations.prepare_paymentbatch")


def test_only_an_administrator_sees_users_and_groups(regions):
    for role in ("Instructeur", "Comptable", "Gestionnaire des adhérents", "Superviseur", "Travailleur social"):
        client = client_of(staff(f"{role[:4].lower()}@cnas.test", role, region=regions[0]))
        assert client.get("/admin/accounts/user/").status_code == 403, role
        assert client.get("/admin/auth/group/").status_code == 403, role
    assert client_of(staff("adm@cnas.test", "Administrateur", national=True)).get(
        "/admin/accounts/user/").status_code == 200


def test_actions_check_the_right_their_effect_needs(tenant_a, django_capture_on_commit_callbacks):
    relief = prestation(code="secours", name="Secours", amount_rule="share", fixed_amount=None,
                        share_percent=Decimal("50"), once_per_event=False)
    with django_capture_on_commit_callbacks(execute=True):
        demande = granted(tenant_a.agent, relief, expense=Decimal("200"))
        waiting = submitted(tenant_a.agent, relief, expense=Decimal("100"))
    region = tenant_a.employer.region
    viewer = client_of(staff("superv@cnas.test", "Superviseur", national=True))  # sees everything, changes nothing
    assert viewer.get("/admin/prestations/paymentbatch/").status_code == 200
    assert viewer.post("/admin/prestations/paymentbatch/preparer/").status_code == 403
    assert not PaymentBatch.objects.exists()
    assert viewer.post(f"/admin/prestations/demande/{waiting.pk}/instruire/",
                       {"action": "refuse", "reason": "non"}).status_code == 403
    response = viewer.post("/admin/prestations/demande/", {"action": "accept_at_rule_amount",
                                                          "_selected_action": [waiting.pk]})
    assert response.status_code in (200, 302)
    assert Demande.objects.get(pk=waiting.pk).status == "submitted"
    assert viewer.post(f"/admin/adhesions/contributionscale/{world.scale(2025).pk}/campagne/",
                       {"action": "start", "confirm": "on"}).status_code == 403
    assert not Campaign.objects.exists()
    instructor = client_of(staff("instr@cnas.test", "Instructeur", region=region))
    assert instructor.post("/admin/prestations/paymentbatch/preparer/").status_code == 403  # not his job
    accountant = client_of(staff("compta@cnas.test", "Comptable", national=True))
    assert accountant.post("/admin/prestations/paymentbatch/preparer/").status_code == 302
    assert PaymentBatch.objects.get().demandes.get() == demande


def test_a_staff_member_without_region_nor_national_flag_sees_nothing(tenant_a, tenant_b):
    nobody = client_of(staff("nulle@cnas.test", "Superviseur"))
    for url in ("/admin/accounts/agent/", "/admin/adhesions/adherent/", "/admin/adhesions/employment/",
                "/admin/prestations/demande/", "/admin/adhesions/contributioncall/", "/admin/cos/cosmember/"):
        response = nobody.get(url)
        assert response.status_code == 200 and response.context["cl"].result_count == 0, url
    assert nobody.get(f"/admin/accounts/agent/{tenant_a.agent.pk}/change/").status_code == 302  # "does not exist"


def test_regional_scope_in_autocomplete_choices_and_files(tenant_a, tenant_b):
    manager = staff("gest@cnas.test", "Gestionnaire des adhérents", region=tenant_a.employer.region)
    client = client_of(manager)
    found = client.get("/admin/autocomplete/", {"app_label": "adhesions", "model_name": "adhesion",
                                                "field_name": "adherent", "term": "Commune"}).json()
    assert [r["text"] for r in found["results"]] == ["Commune a"]
    # choosing another delegation's adherent by its id is refused like an unknown choice
    page = client.post("/admin/adhesions/adhesion/add/", {"adherent": tenant_b.employer.pk, "start_date": "01/01/2030"})
    assert "Sélectionnez un choix valide" in page.content.decode()
    import_b = adhesion_services.create_roster_import(actor=tenant_b.correspondent, adherent=tenant_b.employer,
                                                      uploaded=SimpleUploadedFile("b.csv", b"x"), is_complete=False)
    assert client.get(f"/admin/adhesions/rosterimport/{import_b.pk}/fichier/").status_code == 404
