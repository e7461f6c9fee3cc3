"""The agent's home page and household."""

import datetime

import pytest
from django.urls import reverse

from accounts.models import FamilyMember
from cnas.models import AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db


def test_home_shows_identity_employer_household_and_coverage(client, tenant_a):
    client.force_login(tenant_a.agent_user)
    page = client.get(reverse("espace:home")).content.decode()
    assert "Bonjour Agenta" in page
    assert "NOMA" in page
    assert tenant_a.employer.name in page
    assert "Enfanta" in page
    assert "Couvert" in page and "Non couvert" not in page


def test_home_says_when_the_agent_is_not_covered(client, tenant_a):
    tenant_a.agent.coverages.all().delete()
    client.force_login(tenant_a.agent_user)
    assert "Non couvert" in client.get(reverse("espace:home")).content.decode()


def test_agent_adds_edits_and_removes_a_household_member(client, tenant_a):
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    client.force_login(tenant_a.agent_user)
    response = client.post(reverse("espace:household:add"), {
        "relation": "child", "first_name": "Zoé", "last_name": "Nom", "birth_date": "2021-09-04",
        "is_dependent": "on",
    })
    assert response.status_code == 302
    zoe = FamilyMember.objects.get(agent=tenant_a.agent, first_name="Zoé")
    response = client.post(reverse("espace:household:edit", args=[zoe.pk]), {
        "relation": "child", "first_name": "Zoé", "last_name": "Nom", "birth_date": "2021-09-05",
        "is_dependent": "on",
    })
    assert response.status_code == 302
    zoe.refresh_from_db()
    assert zoe.birth_date == datetime.date(2021, 9, 5)
    client.post(reverse("espace:household:remove", args=[zoe.pk]))
    assert not FamilyMember.objects.filter(pk=zoe.pk).exists()
    actions = list(AuditEntry.objects.for_object(tenant_a.agent).filter(pk__gt=last).values_list("action", flat=True))
    assert sorted(actions) == ["household.add", "household.remove", "household.update"]


@pytest.mark.parametrize("data, field, message", [
    ({"birth_date": "2099-01-01"}, "birth_date", "futur"),
    ({"birth_date": "pas une date"}, "birth_date", "date valide"),
    ({"first_name": ""}, "first_name", "obligatoire"),
    ({"relation": "spouse"}, "relation", "déjà un conjoint"),
])
def test_bad_household_input_gets_a_french_message_and_changes_nothing(client, tenant_a, data, field, message):
    factories.FamilyMemberFactory(agent=tenant_a.agent, relation="spouse")
    before = FamilyMember.objects.count()
    client.force_login(tenant_a.agent_user)
    form = {"relation": "child", "first_name": "Zoé", "last_name": "Nom", "birth_date": "2021-09-04", **data}
    response = client.post(reverse("espace:household:add"), form)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert FamilyMember.objects.count() == before
    assert 'aria-invalid="true"' in response.content.decode()


def test_household_form_fields_are_labelled(client, tenant_a):
    client.force_login(tenant_a.agent_user)
    page = client.get(reverse("espace:household:add")).content.decode()
    for field in ["relation", "first_name", "last_name", "birth_date", "is_dependent"]:
        assert f'for="id_{field}"' in page
