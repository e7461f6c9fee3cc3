"""A second factor is required of staff and managers, optional for agents."""

import pytest
from django.urls import reverse

from accounts.demo import current_totp_code
from tests import factories
from tests.conftest import TOTP_SECRET, enroll_totp
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_manager_without_totp_is_sent_to_activation(client, db):
    manager = factories.ManagerFactory()
    client.force_login(manager.user)
    response = client.get(reverse("collectivite:index"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")
    # The account pages stay reachable so that the manager can enrol.
    assert client.get(reverse("mfa_index")).status_code == 200


def test_staff_without_totp_cannot_reach_admin(client, db):
    staff = factories.UserFactory(is_staff=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url == reverse("mfa_activate_totp")


def test_agent_without_totp_reaches_his_space(client, tenant_a):
    client.force_login(tenant_a.agent_user)
    assert client.get(reverse("espace:home")).status_code == 200


def test_enrolled_manager_cannot_switch_totp_off(client, tenant_a):
    client.force_login(tenant_a.correspondent)
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302 and response.url == reverse("mfa_index")
    assert tenant_a.correspondent.authenticator_set.filter(type="totp").exists()


def test_login_of_enrolled_manager_asks_for_the_code(client, tenant_a):
    response = client.post(reverse("account_login"),
                           {"login": tenant_a.correspondent.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    # Not logged in yet: the space is still closed.
    assert client.get(reverse("collectivite:index")).url.startswith("/accounts/login/")
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200  # wrong code: the form again
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(TOTP_SECRET)})
    assert response.status_code == 302
    response = client.get(response.url, follow=True)
    assert response.redirect_chain[-1][0] == f"/collectivite/{tenant_a.employer.pk}/"


def test_manager_enrols_totp_then_reaches_space(client, db):
    manager = factories.ManagerFactory()
    client.post(reverse("account_login"), {"login": manager.user.email, "password": PASSWORD})
    assert client.get(reverse("collectivite:index")).url == reverse("mfa_activate_totp")
    page = client.get(reverse("mfa_activate_totp"), follow=True)
    if page.redirect_chain and "reauthenticate" in page.redirect_chain[-1][0]:
        client.post(page.redirect_chain[-1][0], {"password": PASSWORD})
        page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert manager.user.authenticator_set.filter(type="totp").exists()
    assert client.get(reverse("collectivite:index")).status_code == 302  # to the adherent's home
    assert client.get(reverse("collectivite:home", args=[manager.adherent.pk])).status_code == 200


def test_demo_totp_prints_the_current_code(db, capsys):
    from django.core.management import call_command

    from accounts.demo import DEMO_BY_EMAIL, create_demo_user

    login = DEMO_BY_EMAIL["correspondant@demo.test"]
    create_demo_user(login)
    call_command("demo_totp", "correspondant@demo.test")
    printed = capsys.readouterr().out.strip()
    assert printed == current_totp_code(login.totp_secret)
    assert len(printed) == 6 and printed.isdigit()


def test_demo_totp_refuses_other_accounts(db):
    from django.core.management import CommandError, call_command

    enroll_totp(factories.UserFactory(email="vrai@exemple.test"))
    with pytest.raises(CommandError, match="pas un compte de démonstration"):
        call_command("demo_totp", "vrai@exemple.test")
