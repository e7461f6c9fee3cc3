import pytest
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


def test_correspondent_home_shows_adherent_adhesion_and_roster(client, tenant_a):
    factories.EmploymentFactory.create_batch(2, employer=tenant_a.employer)
    client.force_login(tenant_a.correspondent)
    response = client.get(reverse("collectivite:home", args=[tenant_a.employer.pk]))
    page = response.content.decode()
    assert tenant_a.employer.name in page and tenant_a.employer.siret in page
    assert "Adhésion active" in page
    assert response.context["counts"]["working"] == 3
    assert response.context["covered"] == 1
    assert tenant_a.correspondent.email in page


def test_cos_home_shows_the_association(client, tenant_a):
    factories.CoverageFactory(adherent=tenant_a.cos, source="cos_membership")
    client.force_login(tenant_a.cos_admin)
    response = client.get(reverse("cos:home", args=[tenant_a.cos.pk]))
    page = response.content.decode()
    assert tenant_a.cos.name in page and "Adhésion active" in page
    assert response.context["covered"] == 1


def test_cos_without_adhesion_says_so(client, tenant_a):
    tenant_a.cos.adhesions.all().delete()
    client.force_login(tenant_a.cos_admin)
    page = client.get(reverse("cos:home", args=[tenant_a.cos.pk])).content.decode()
    assert "Pas d&#x27;adhésion" in page or "Pas d'adhésion" in page
