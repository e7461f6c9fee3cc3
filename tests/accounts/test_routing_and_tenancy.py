"""Each persona lands in its own space and gets a 404 for the other tenant's pages."""

import pytest
from django.urls import reverse

from tests import factories
from tests.conftest import enroll_totp

pytestmark = pytest.mark.django_db


def landing_of(client, user):
    client.force_login(user)
    response = client.get(reverse("accounts:landing"))
    assert response.status_code == 302
    return response.url


def test_agent_lands_in_espace(client, tenant_a):
    assert landing_of(client, tenant_a.agent_user) == "/espace/"


def test_correspondent_lands_in_collectivite(client, tenant_a):
    assert landing_of(client, tenant_a.correspondent) == "/collectivite/"


def test_cos_admin_lands_in_cos(client, tenant_a):
    assert landing_of(client, tenant_a.cos_admin) == "/cos/"


def test_staff_lands_in_admin(client, staff_user):
    assert landing_of(client, staff_user) == "/admin/"


def test_user_without_role_lands_on_account_page(client, db):
    user = factories.UserFactory()
    assert landing_of(client, user) == "/compte/"
    response = client.get("/compte/")
    assert "rattaché à aucun dossier" in response.content.decode()


def test_agent_who_is_also_correspondent_switches_from_header(client, tenant_a):
    factories.ManagerFactory(user=tenant_a.agent_user, adherent=tenant_a.employer)
    enroll_totp(tenant_a.agent_user)
    client.force_login(tenant_a.agent_user)
    page = client.get(reverse("espace:home")).content.decode()
    assert 'aria-label="Mes espaces"' in page
    assert 'href="/collectivite/"' in page and 'href="/espace/"' in page


@pytest.mark.parametrize("url_name", ["collectivite:home"])
def test_correspondent_sees_own_adherent_but_not_the_other(client, tenant_a, tenant_b, url_name):
    client.force_login(tenant_a.correspondent)
    assert client.get(reverse(url_name, args=[tenant_a.employer.pk])).status_code == 200
    assert client.get(reverse(url_name, args=[tenant_b.employer.pk])).status_code == 404
    # Nor a COS page, even of his own tenant: he is not its administrator.
    assert client.get(reverse("cos:home", args=[tenant_a.cos.pk])).status_code == 404
    assert client.get(reverse("cos:index")).status_code == 404


def test_cos_admin_sees_own_association_but_not_the_other(client, tenant_a, tenant_b):
    client.force_login(tenant_a.cos_admin)
    assert client.get(reverse("cos:home", args=[tenant_a.cos.pk])).status_code == 200
    assert client.get(reverse("cos:home", args=[tenant_b.cos.pk])).status_code == 404
    assert client.get(reverse("collectivite:home", args=[tenant_a.employer.pk])).status_code == 404
    assert client.get(reverse("collectivite:index")).status_code == 404


def test_agent_sees_only_own_household(client, tenant_a, tenant_b):
    client.force_login(tenant_a.agent_user)
    assert client.get(reverse("espace:household:edit", args=[tenant_a.child.pk])).status_code == 200
    assert client.get(reverse("espace:household:edit", args=[tenant_b.child.pk])).status_code == 404
    response = client.post(reverse("espace:household:remove", args=[tenant_b.child.pk]))
    assert response.status_code == 404
    tenant_b.child.refresh_from_db()  # still there
    assert client.get(reverse("collectivite:home", args=[tenant_a.employer.pk])).status_code == 404
    assert client.get(reverse("cos:home", args=[tenant_a.cos.pk])).status_code == 404


def test_agent_cannot_enter_admin(client, tenant_a):
    client.force_login(tenant_a.agent_user)
    assert client.get("/admin/", follow=True).status_code == 403
    assert client.get("/admin/accounts/agent/").status_code == 302


def test_user_without_agent_file_gets_404_in_espace(client, db):
    client.force_login(factories.UserFactory())
    assert client.get(reverse("espace:home")).status_code == 404


def test_anonymous_is_sent_to_login(client, tenant_a):
    for url in ["/espace/", "/collectivite/", f"/collectivite/{tenant_a.employer.pk}/", "/cos/", "/admin/"]:
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=")


def test_correspondent_of_two_adherents_chooses(client, tenant_a):
    other = factories.AdherentFactory(name="CCAS de Testville")
    factories.ManagerFactory(user=tenant_a.correspondent, adherent=other)
    client.force_login(tenant_a.correspondent)
    page = client.get("/collectivite/").content.decode()
    assert "CCAS de Testville" in page and tenant_a.employer.name in page
