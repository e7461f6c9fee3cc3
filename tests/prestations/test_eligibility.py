"""The eligibility function, rule by rule, and its amounts and date limits by properties."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.backends.postgresql.psycopg_any import DateRange
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import TaxDeclaration
from adhesions.models import ContributionCall, ContributionScale
from prestations.eligibility import age_on, bracket_amount, evaluate, school_year_start, share_amount
from prestations.models import Bracket, Demande, Prestation
from tests import factories
from tests.prestations.conftest import TODAY, prestation

pytestmark = pytest.mark.django_db
D = datetime.date


def child_of(agent, first_name="Léa", birth=None):
    return factories.FamilyMemberFactory(agent=agent, first_name=first_name, birth_date=birth or TODAY)


def test_eligible_birth_with_its_deadline(tenant_a, birth_aid):
    baby = child_of(tenant_a.agent, birth=TODAY - datetime.timedelta(days=10))
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=baby)
    assert verdict.eligible and verdict.amount == Decimal("230.00")
    deadline = baby.birth_date + datetime.timedelta(days=365)
    assert f"Demande possible jusqu'au {deadline:%d/%m/%Y}." in verdict.notes
    assert verdict.event_key == f"child:{baby.pk}"


def test_deadline_passed(tenant_a, birth_aid):
    baby = child_of(tenant_a.agent, birth=TODAY - datetime.timedelta(days=366))
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=baby)
    assert not verdict.eligible
    assert any(r.startswith("Le délai est dépassé") for r in verdict.reasons)


def test_already_paid_for_this_child(tenant_a, birth_aid):
    baby = child_of(tenant_a.agent, birth=D(TODAY.year, 1, 2) if TODAY.month > 1 else TODAY)
    Demande.objects.create(agent=tenant_a.agent, prestation=birth_aid, status="accepted", child=baby,
                           event_key=f"child:{baby.pk}", amount_granted=Decimal("230"))
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=baby)
    assert f"Déjà versée pour Léa, né(e) le {baby.birth_date:%d/%m/%Y}." in verdict.reasons
    other = child_of(tenant_a.agent, "Hugo", birth=baby.birth_date)  # twins: the other child is fine
    assert evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=other).eligible


def test_not_covered_or_in_arrears(tenant_a, birth_aid):
    tenant_a.agent.coverages.all().delete()
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY)
    assert verdict.reasons == ["Aucun adhérent ne vous ouvre droit aux prestations à cette date."]
    factories.CoverageFactory(agent=tenant_a.agent, adherent=tenant_a.employer)
    ContributionScale.objects.create(year=2025, due_date=D(2025, 3, 31), grace_days=60)
    ContributionCall.objects.create(adherent=tenant_a.employer, year=2025, reference="C2025-X", amount=100,
                                    due_date=D(2025, 3, 31))
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=max(TODAY, D(2025, 6, 1)))
    assert "Votre collectivité n'est pas à jour de sa cotisation 2025" in verdict.reasons[0]


def test_working_or_retired(tenant_a):
    retired_only = prestation(for_working=False, for_retired=True)
    assert evaluate(agent=tenant_a.agent, prestation=retired_only, on=TODAY).reasons == [
        "Cette prestation est réservée aux retraités."]
    tenant_a.agent.status = "retired"
    assert evaluate(agent=tenant_a.agent, prestation=retired_only, on=TODAY).eligible


def test_validity_dates(tenant_a):
    later = prestation(valid_from=TODAY + datetime.timedelta(days=3))
    assert "proposée à partir du" in evaluate(agent=tenant_a.agent, prestation=later, on=TODAY).reasons[0]
    ended = prestation(code="old", valid_from=D(2020, 1, 1), valid_until=D(2021, 1, 1))
    assert "n'est plus proposée depuis le 01/01/2021" in evaluate(agent=tenant_a.agent, prestation=ended,
                                                                 on=TODAY).reasons[0]


def test_minimum_length_of_service(tenant_a):
    aid = prestation(min_service_months=12)
    factories_line = tenant_a.agent.employments.get()
    factories_line.start_date = TODAY - datetime.timedelta(days=200)
    factories_line.save()
    verdict = evaluate(agent=tenant_a.agent, prestation=aid, on=TODAY)
    assert verdict.reasons[0].startswith("Il faut 12 mois d'ancienneté")


def test_child_age_limits_on_the_school_year(tenant_a, school_aid):
    start = school_year_start(TODAY)
    too_young = child_of(tenant_a.agent, "Tom", birth=start.replace(year=start.year - 2))
    too_old = child_of(tenant_a.agent, "Zoé", birth=start.replace(year=start.year - 19))
    fine = child_of(tenant_a.agent, "Jade", birth=start.replace(year=start.year - 10))
    on = start + datetime.timedelta(days=10)
    assert "il faut au moins 3 ans" in " ".join(evaluate(agent=tenant_a.agent, prestation=school_aid, on=on,
                                                        child=too_young).reasons)
    assert "s'arrête à 18 ans" in " ".join(evaluate(agent=tenant_a.agent, prestation=school_aid, on=on,
                                                   child=too_old).reasons)
    verdict = evaluate(agent=tenant_a.agent, prestation=school_aid, on=on, child=fine)
    assert verdict.eligible and verdict.event_key == f"child:{fine.pk}:{start.year}"


def test_family_quotient_picks_the_bracket(tenant_a, school_aid):
    start = school_year_start(TODAY)
    jade = child_of(tenant_a.agent, "Jade", birth=start.replace(year=start.year - 10))
    on = start + datetime.timedelta(days=10)
    no_notice = evaluate(agent=tenant_a.agent, prestation=school_aid, on=on, child=jade)
    assert no_notice.amount == Decimal("50") and no_notice.family_quotient is None
    TaxDeclaration.objects.create(agent=tenant_a.agent, year=on.year - 1, reference_income=Decimal("28800"),
                                  shares=Decimal("3"), notice=SimpleUploadedFile("avis.pdf", b"%PDF-1.4"))
    verdict = evaluate(agent=tenant_a.agent, prestation=school_aid, on=on, child=jade)
    assert verdict.family_quotient == Decimal("800.00") and verdict.amount == Decimal("80")


def test_share_of_an_expense_and_the_yearly_ceiling(tenant_a, relief):
    verdict = evaluate(agent=tenant_a.agent, prestation=relief, on=TODAY)
    assert verdict.eligible and verdict.amount is None and "Indiquez le montant" in verdict.notes[0]
    assert evaluate(agent=tenant_a.agent, prestation=relief, on=TODAY, expense=Decimal("800")).amount == 400
    Demande.objects.create(agent=tenant_a.agent, prestation=relief, status="accepted", event_key="demande:1",
                           amount_granted=Decimal("1300"), decided_at=datetime.datetime.now(datetime.UTC))
    capped = evaluate(agent=tenant_a.agent, prestation=relief, on=TODAY, expense=Decimal("800"))
    assert capped.amount == Decimal("200.00") and "plafond annuel" in capped.notes[-1]
    Demande.objects.create(agent=tenant_a.agent, prestation=relief, status="paid", event_key="demande:2",
                           amount_granted=Decimal("200"), decided_at=datetime.datetime.now(datetime.UTC),
                           batch=__import__("prestations.models", fromlist=["PaymentBatch"]).PaymentBatch.objects
                           .create(message_id="M1", execution_date=TODAY))
    full = evaluate(agent=tenant_a.agent, prestation=relief, on=TODAY, expense=Decimal("800"))
    assert not full.eligible and full.reasons == [f"Plafond annuel de 1\u202f500,00\xa0€ atteint pour {TODAY.year}."]


def test_a_child_of_another_household_is_refused(tenant_a, tenant_b, birth_aid):
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=tenant_b.child)
    assert "n'est pas un enfant déclaré dans votre foyer" in verdict.reasons[0]


def test_eligibility_command(tenant_a, birth_aid, capsys):
    baby = child_of(tenant_a.agent, "Léa", birth=TODAY - datetime.timedelta(days=3))
    number = tenant_a.agent.employments.get().employee_number
    call_command("eligibility", tenant_a.employer.siret, number, "naissance", "--child", "léa")
    out = capsys.readouterr().out
    assert "ÉLIGIBLE — 230,00" in out and f"{baby.birth_date + datetime.timedelta(days=365):%d/%m/%Y}" in out
    call_command("eligibility", tenant_a.employer.siret, number, "naissance", "--child", "Léa",
                 "--date", (TODAY + datetime.timedelta(days=400)).isoformat())
    assert "NON ÉLIGIBLE" in capsys.readouterr().out


# --- Properties ------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=100_000, places=2)


@given(expense=money, percent=st.decimals(min_value=Decimal("0.01"), max_value=100, places=2),
       ceiling=st.one_of(st.none(), money))
def test_share_never_exceeds_the_expense_nor_the_ceiling(expense, percent, ceiling):
    amount = share_amount(expense, percent, ceiling)
    assert amount >= 0 and amount == amount.quantize(Decimal("0.01"))
    assert amount <= expense + Decimal("0.005")
    if ceiling is not None:
        assert amount <= ceiling


@given(limits=st.lists(st.decimals(min_value=1, max_value=5000, places=2), min_size=1, max_size=5, unique=True),
       qf=st.one_of(st.none(), st.decimals(min_value=0, max_value=10_000, places=2)))
def test_bracket_amount_is_the_first_bracket_above_the_quotient(limits, qf):
    limits = sorted(limits)
    brackets = [Bracket(qf_max=limit, amount=Decimal(len(limits) - i)) for i, limit in enumerate(limits)]
    brackets.append(Bracket(qf_max=None, amount=Decimal("0")))
    amount = bracket_amount(brackets, qf)
    if qf is None or qf > limits[-1]:
        assert amount == 0
    else:
        index = next(i for i, limit in enumerate(limits) if qf <= limit)
        assert amount == len(limits) - index
    # a higher quotient never gives more
    if qf is not None:
        assert bracket_amount(brackets, qf + 1) <= amount


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days_after=st.integers(min_value=0, max_value=400), offset=st.integers(min_value=-5, max_value=800))
def test_the_deadline_is_the_last_day_included(tenant_a, days_after, offset):
    # the fixture is only read: one agent, one prestation whose delay each example sets
    aid, _ = Prestation.objects.update_or_create(code="mariage", defaults={
        "name": "Mariage", "category": "aid", "description": "-", "amount_rule": "fixed",
        "fixed_amount": Decimal("230"), "valid_from": D(2020, 1, 1), "event": "wedding",
        "days_after_event": days_after})
    wedding = D(2024, 6, 15)
    on = wedding + datetime.timedelta(days=offset)
    verdict = evaluate(agent=tenant_a.agent, prestation=aid, on=on, event_date=wedding)
    in_future = offset < 0
    late = offset > days_after
    assert verdict.eligible == (not in_future and not late)
    assert verdict.deadline == wedding + datetime.timedelta(days=days_after)


@given(birth=st.dates(min_value=D(1990, 1, 1), max_value=D(2030, 12, 31)),
       day=st.dates(min_value=D(1990, 1, 1), max_value=D(2040, 12, 31)))
def test_age_is_the_number_of_birthdays_passed(birth, day):
    age = age_on(birth, day)
    assert age == day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    if day >= birth:
        assert age >= 0


def test_coverage_fixture_is_current(tenant_a):
    assert tenant_a.agent.coverages.filter(period__contains=TODAY).exists()
    assert DateRange  # imported for the factories' periods
