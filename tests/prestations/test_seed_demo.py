import pytest
from django.core.management import call_command

from accounts.demo import DEMO_LOGINS, DEMO_PASSWORD
from accounts.models import Agent, FamilyMember, User
from adhesions.models import Adherent, Coverage, Employment, Manager
from cnas.validators import validate_siret

pytestmark = pytest.mark.django_db


def counts():
    return tuple(m.objects.count() for m in (User, Agent, FamilyMember, Adherent, Employment, Coverage, Manager))


def test_seed_demo_builds_a_believable_world_once(capsys):
    call_command("seed_demo")
    first = counts()
    assert 10 <= Adherent.objects.count() <= 12
    assert 190 <= Agent.objects.count() <= 220
    assert set(Adherent.objects.values_list("category", flat=True)) >= {"commune", "epci", "departement", "ccas",
                                                                          "association"}
    assert Adherent.objects.filter(kind="cos").count() == 2
    for siret in Adherent.objects.values_list("siret", flat=True):
        validate_siret(siret)
    for login in DEMO_LOGINS:
        assert User.objects.get(email=login.email).check_password(DEMO_PASSWORD)
    agent = Agent.objects.get(user__email="agent@demo.test")
    assert agent.household.filter(relation="child").count() == 2
    assert Coverage.objects.filter(agent=agent).count() == 2  # employer and COS
    assert Manager.objects.filter(user__email="correspondant@demo.test").count() == 1
    assert Agent.objects.filter(user__email="correspondant@demo.test").exists()  # two spaces
    assert Agent.objects.filter(status="retired").exists()
    # this year's campaign is issued, mostly paid; two communes are in arrears
    from django.utils import timezone

    from adhesions.models import ContributionCall, ContributionScale
    from adhesions.selectors import arrears, entitlement_on

    year = timezone.localdate().year
    assert set(ContributionScale.objects.values_list("year", flat=True)) == {year, year + 1}
    calls = ContributionCall.objects.filter(year=year)
    assert calls.count() == 9 and not calls.filter(pdf="").exists()
    late = arrears(adherent_ids=Adherent.objects.values_list("pk", flat=True),
                   day=timezone.localdate().replace(month=12, day=31))
    assert {Adherent.objects.get(pk=pk).name for pk in late} == {"Commune de Kerlouan-Plage",
                                                                   "Commune de Montclar-de-Quercy"}
    assert entitlement_on(agent=agent, day=timezone.localdate().replace(month=12, day=31)).may_order
    from prestations.models import Demande, Prestation

    assert Prestation.objects.count() == 15
    assert Demande.objects.filter(status="submitted").count() >= 3
    assert Demande.objects.filter(status="accepted").count() == 1
    assert Agent.objects.get(user__email="agent@demo.test").iban
    output = capsys.readouterr().out
    assert "agent@demo.test" in output and DEMO_PASSWORD in output

    call_command("seed_demo")
    assert counts() == first
    assert "déjà chargé" in capsys.readouterr().out


def test_seed_demo_bulk_world(capsys):
    call_command("seed_demo", agents=3000, adherents=60)
    assert Adherent.objects.count() == 70
    assert Agent.objects.count() >= 3200
    generated = Agent.objects.filter(email__endswith="@agents.example")
    assert generated.count() >= 2000
    # every agent has exactly one employment, with an employer that is not a COS
    assert Employment.objects.count() == Agent.objects.count()
    assert not Employment.objects.filter(employer__kind="cos").exists()
    assert Coverage.objects.filter(source="cos_membership").exists()
    assert Coverage.objects.filter(source="retirement").exists()
    assert FamilyMember.objects.filter(relation="child").exists()
    before = counts()
    call_command("seed_demo", agents=3000, adherents=60)
    assert counts() == before
