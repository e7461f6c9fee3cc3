import datetime

import pytest
from django.urls import reverse

from tests import world

pytestmark = pytest.mark.django_db


def test_correspondent_home_shows_adherent_adhesion_and_roster(client, tenant_a):
    world.hire_many(tenant_a.employer, 2, datetime.date(2019, 1, 1))
    client.force_login(tenant_a.correspondent)
    response = client.get(reverse("collectivite:home", args=[tenant_a.employer.pk]))
    page = response.content.decode()
    assert tenant_a.employer.name in page and tenant_a.employer.siret in page
    assert "Adhésion active" in page
    assert response.context["counts"]["working"] == 3
    assert response.context["covered"] == 3
    assert tenant_a.correspondent.email in page


def test_cos_home_shows_the_association(client, tenant_a):
    world.serve(tenant_a.cos, tenant_a.employer)
    world.pay_fee(world.join_cos(tenant_a.cos, tenant_a.agent, datetime.date(2020, 1, 1)), datetime.date.today().year,
                  paid_on=datetime.date.today())
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
