"""The eligibility function, rule by rule, and its amounts and date limits by properties. The
world (coverage, roster, household, earlier requests) is built through the services."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts import services as account_services
from adhesions import services as adhesion_services
from prestations import services
from prestations.eligibility import (
    age_on,
    bracket_amount,
    deadline_after,
    evaluate,
    school_year_start,
    service_months,
    share_amount,
)
from prestations.models import Bracket, Prestation
from tests import world
from tests.prestations.conftest import PDF, TODAY, granted, prestation, submitted

pytestmark = pytest.mark.django_db
D = datetime.date


def child_of(agent, first_name="Léa", birth=None, adoption=None):
    return world.child(agent, first_name=first_name, birth_date=birth or TODAY, adoption_date=adoption)


def test_eligible_birth_with_its_deadline(tenant_a, birth_aid):
    baby = child_of(tenant_a.agent, birth=TODAY - datetime.timedelta(days=10))
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=baby)
    assert verdict.eligible and verdict.amount == Decimal("230.00")
    deadline = baby.birth_date + relativedelta(months=12)
    assert f"Demande possible jusqu'au {deadline:%d/%m/%Y}." in verdict.notes
    assert verdict.event_key == f"child:{baby.pk}"


def test_deadline_passed(tenant_a, birth_aid):
    baby = child_of(tenant_a.agent, birth=TODAY - relativedelta(months=12) - datetime.timedelta(days=1))
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=baby)
    assert not verdict.eligible
    assert any(r.startswith("Le délai est dépassé") for r in verdict.reasons)


def test_already_paid_for_this_child(tenant_a, birth_aid):
    baby = child_of(tenant_a.agent, birth=TODAY - datetime.timedelta(days=30))
    granted(tenant_a.agent, birth_aid, child=baby)
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=baby)
    assert f"Déjà versée pour Léa, né(e) le {baby.birth_date:%d/%m/%Y}." in verdict.reasons
    other = child_of(tenant_a.agent, "Hugo", birth=baby.birth_date)  # twins: the other child is fine
    assert evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=other).eligible


def test_not_covered_or_in_arrears(tenant_a, birth_aid, django_capture_on_commit_callbacks):
    employment = tenant_a.agent.employments.get()
    # he dies: no extension of rights after that departure
    world.leave(employment, TODAY - datetime.timedelta(days=2), reason="death")
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY)
    assert verdict.reasons == ["Aucun adhérent ne vous ouvre droit aux prestations à cette date."]
    # a living colleague of the same employer, whose employer has not paid its 2025 call
    colleague = world.hire(tenant_a.employer, D(2019, 1, 1)).agent
    with django_capture_on_commit_callbacks(execute=True):
        adhesion_services.run_campaign_now(actor=None, scale=world.scale(2025, due_date=D(2025, 3, 31)),
                                           issued_on=D(2025, 1, 15))
    verdict = evaluate(agent=colleague, prestation=birth_aid, on=max(TODAY, D(2025, 6, 1)))
    assert "Votre collectivité n'est pas à jour de sa cotisation 2025" in verdict.reasons[0]


def test_working_or_retired(tenant_a):
    retired_only = prestation(for_working=False, for_retired=True)
    assert evaluate(agent=tenant_a.agent, prestation=retired_only, on=TODAY).reasons == [
        "Cette prestation est réservée aux retraités."]
    world.retire(tenant_a.agent.employments.get(), TODAY - datetime.timedelta(days=1))
    tenant_a.agent.refresh_from_db()
    assert tenant_a.agent.status == "retired"
    assert evaluate(agent=tenant_a.agent, prestation=retired_only, on=TODAY).eligible  # the adhesion covers them


def test_validity_dates(tenant_a):
    later = prestation(valid_from=TODAY + datetime.timedelta(days=3))
    assert "proposée à partir du" in evaluate(agent=tenant_a.agent, prestation=later, on=TODAY).reasons[0]
    ended = prestation(code="old", valid_from=D(2020, 1, 1), valid_until=D(2021, 1, 1))
    assert "n'est plus proposée depuis le 01/01/2021" in evaluate(agent=tenant_a.agent, prestation=ended,
                                                                 on=TODAY).reasons[0]


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
    with time_machine.travel(datetime.datetime.combine(on, datetime.time(12)), tick=False):
        account_services.declare_tax(actor=None, agent=tenant_a.agent, year=on.year - 1,
                                     reference_income=Decimal("28800"), shares=Decimal("3"),
                                     notice=SimpleUploadedFile("avis.pdf", PDF))
    verdict = evaluate(agent=tenant_a.agent, prestation=school_aid, on=on, child=jade)
    assert verdict.family_quotient == Decimal("800.00") and verdict.amount == Decimal("80")


def test_share_of_an_expense_and_the_yearly_ceiling(tenant_a, relief):
    verdict = evaluate(agent=tenant_a.agent, prestation=relief, on=TODAY)
    assert verdict.eligible and verdict.amount is None and "Indiquez le montant" in verdict.notes[0]
    assert evaluate(agent=tenant_a.agent, prestation=relief, on=TODAY, expense=Decimal("800")).amount == 400
    granted(tenant_a.agent, relief, expense=Decimal("2600"))  # 1,300 €
    capped = evaluate(agent=tenant_a.agent, prestation=relief, on=TODAY, expense=Decimal("800"))
    assert capped.amount == Decimal("200.00") and "plafond annuel" in capped.notes[-1]
    granted(tenant_a.agent, relief, expense=Decimal("400"))  # 200 €: the ceiling is reached
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
    assert "ÉLIGIBLE — 230,00" in out and f"{baby.birth_date + relativedelta(months=12):%d/%m/%Y}" in out
    call_command("eligibility", tenant_a.employer.siret, number, "naissance", "--child", "Léa",
                 "--date", (TODAY + datetime.timedelta(days=400)).isoformat())
    assert "NON ÉLIGIBLE" in capsys.readouterr().out


# --- Rule 6: time limits in months, date to date ---------------------------------------------

def test_six_months_after_31_august_is_the_last_day_of_february(tenant_a):
    wedding_aid = prestation(code="mariage", event="wedding", time_limit=6, time_limit_unit="months")
    wedding = D(2025, 8, 31)
    on_the_last_day = evaluate(agent=tenant_a.agent, prestation=wedding_aid, on=D(2026, 2, 28), event_date=wedding)
    assert on_the_last_day.eligible and on_the_last_day.deadline == D(2026, 2, 28)
    assert "Demande possible jusqu'au 28/02/2026." in on_the_last_day.notes
    late = evaluate(agent=tenant_a.agent, prestation=wedding_aid, on=D(2026, 3, 1), event_date=wedding)
    assert late.reasons == ["Le délai est dépassé : la demande était possible jusqu'au 28/02/2026."]
    assert deadline_after(D(2027, 8, 31), amount=6, unit="months") == D(2028, 2, 29)  # a leap year
    assert deadline_after(D(2025, 3, 15), amount=6, unit="months") == D(2025, 9, 15)


def test_a_time_limit_in_days_stays_in_days(tenant_a):
    wedding_aid = prestation(code="mariage", event="wedding", time_limit=60, time_limit_unit="days")
    verdict = evaluate(agent=tenant_a.agent, prestation=wedding_aid, on=D(2025, 1, 30), event_date=D(2024, 12, 1))
    assert verdict.eligible and verdict.deadline == D(2025, 1, 30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(months=st.integers(min_value=0, max_value=24),
       event=st.dates(min_value=D(2020, 1, 1), max_value=D(2025, 12, 31)),
       offset=st.integers(min_value=-3, max_value=3))
def test_the_deadline_is_the_event_plus_the_months_and_its_last_day_is_included(tenant_a, months, event, offset):
    aid, _ = Prestation.objects.update_or_create(code="mariage", defaults={
        "name": "Mariage", "category": "aid", "description": "-", "amount_rule": "fixed",
        "fixed_amount": Decimal("230"), "valid_from": D(2020, 1, 1), "event": "wedding",
        "time_limit": months, "time_limit_unit": "months"})
    deadline = event + relativedelta(months=months)
    on = max(event, deadline + datetime.timedelta(days=offset))
    verdict = evaluate(agent=tenant_a.agent, prestation=aid, on=on, event_date=event)
    assert verdict.deadline == deadline
    assert verdict.eligible == (on <= deadline)


# --- Rule 7: adoption --------------------------------------------------------------------------

def test_an_adopted_child_counts_from_his_arrival(tenant_a, birth_aid, client):
    arrived = TODAY - datetime.timedelta(days=60)
    adopted = child_of(tenant_a.agent, "Malo", birth=D(2019, 5, 4), adoption=arrived)
    verdict = evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=adopted)
    assert verdict.eligible and verdict.event_date == arrived
    assert verdict.deadline == arrived + relativedelta(months=12)
    born_long_ago = child_of(tenant_a.agent, "Inès", birth=D(2019, 5, 4))  # not adopted: too late
    assert not evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=born_long_ago).eligible
    # the agent declares the adoption date himself, from his household page
    client.force_login(tenant_a.agent_user)
    response = client.post(reverse_household_edit(born_long_ago), {
        "relation": "child", "first_name": "Inès", "last_name": born_long_ago.last_name,
        "birth_date": "2019-05-04", "adoption_date": (TODAY - datetime.timedelta(days=5)).isoformat(),
        "is_dependent": "on"})
    assert response.status_code == 302
    born_long_ago.refresh_from_db()
    assert evaluate(agent=tenant_a.agent, prestation=birth_aid, on=TODAY, child=born_long_ago).eligible
    response = client.post(reverse_household_edit(born_long_ago), {
        "relation": "child", "first_name": "Inès", "last_name": born_long_ago.last_name,
        "birth_date": "2019-05-04", "adoption_date": "2018-01-01", "is_dependent": "on"})
    assert "ne peut pas précéder la naissance" in response.content.decode()


def reverse_household_edit(member):
    from django.urls import reverse

    return reverse("espace:household:edit", args=[member.pk])


# --- Rule 8: length of service, contracts added up ---------------------------------------------

def test_length_of_service_adds_up_contracts_not_the_time_since_the_first(tenant_a):
    aid = prestation(min_service_months=6)
    first = world.hire(tenant_a.employer, D(2010, 1, 1), first_name="Noé")
    world.leave(first, D(2010, 3, 31), reason="end_of_contract")  # 3 months in 2010
    agent = first.agent
    world.rehire(tenant_a.employer, agent, TODAY - relativedelta(months=2))  # 2 months now
    verdict = evaluate(agent=agent, prestation=aid, on=TODAY)
    assert verdict.reasons[-1] == "Il faut 6 mois d'ancienneté ; vous en comptez 5."
    assert evaluate(agent=agent, prestation=aid, on=TODAY + relativedelta(months=1)).eligible


def test_length_of_service_is_counted_date_to_date():
    assert service_months([(D(2026, 3, 1), None)], on=D(2026, 8, 31)) == 6  # March to August
    assert service_months([(D(2026, 3, 1), None)], on=D(2026, 8, 30)) == 5
    # as the deadlines count: 31 August + 6 months is 28 February, reached at the end of the 27th
    assert service_months([(D(2025, 8, 31), None)], on=D(2026, 2, 27)) == 6
    assert service_months([(D(2025, 8, 31), None)], on=D(2026, 2, 26)) == 5
    # two employers at once count once; a future contract counts nothing
    assert service_months([(D(2024, 1, 1), D(2024, 12, 31)), (D(2024, 6, 1), D(2024, 9, 30)),
                           (D(2030, 1, 1), None)], on=D(2025, 6, 1)) == 12
    assert service_months([], on=D(2025, 6, 1)) == 0


@given(periods=st.lists(st.tuples(st.dates(min_value=D(2000, 1, 1), max_value=D(2025, 12, 31)),
                                  st.integers(min_value=0, max_value=2000)), max_size=5),
       on=st.dates(min_value=D(2000, 1, 1), max_value=D(2026, 12, 31)))
def test_length_of_service_never_exceeds_the_time_elapsed(periods, on):
    spans = [(start, start + datetime.timedelta(days=days)) for start, days in periods]
    months = service_months(spans, on=on)
    assert months >= 0
    starts = [start for start, _end in spans if start <= on]
    if starts:
        elapsed = relativedelta(on + datetime.timedelta(days=1), min(starts))
        assert months <= elapsed.years * 12 + elapsed.months


# --- Rule 10: required documents by kind --------------------------------------------------------

def test_a_request_is_sent_only_with_each_required_kind(tenant_a):
    aid = prestation(code="etudes", amount_rule="share", fixed_amount=None, share_percent=Decimal("50"),
                     once_per_event=False, documents=["Facture", "Certificat de scolarité"])
    invoice, certificate = aid.required_documents.get(label="Facture"), aid.required_documents.get(
        label="Certificat de scolarité")
    account_services.update_bank_details(actor=None, agent=tenant_a.agent, iban="FR7630006000011234567890189",
                                         bic="")
    demande = services.save_draft(actor=None, agent=tenant_a.agent, prestation=aid, expense=Decimal("300"))
    for _ in range(2):  # two invoices are not a certificate
        services.add_document(actor=None, demande=demande, kind=invoice, uploaded=SimpleUploadedFile("f.pdf", PDF))
    services.add_document(actor=None, demande=demande, label="Lettre", uploaded=SimpleUploadedFile("l.pdf", PDF))
    with pytest.raises(ValidationError) as refused:
        services.submit(actor=None, demande=demande)
    assert "Joignez les pièces demandées : Certificat de scolarité." in refused.value.messages
    other = prestation(code="autre", documents=["Acte de décès"])
    with pytest.raises(ValidationError, match="n'est pas demandée"):
        services.add_document(actor=None, demande=demande, kind=other.required_documents.get(),
                              uploaded=SimpleUploadedFile("a.pdf", PDF))
    services.add_document(actor=None, demande=demande, kind=certificate, uploaded=SimpleUploadedFile("c.pdf", PDF))
    assert services.submit(actor=None, demande=demande).status == "submitted"
    assert sorted(str(d.kind or "—") for d in demande.documents.all()) == [
        "Certificat de scolarité", "Facture", "Facture", "—"]


def test_the_agent_chooses_the_kind_of_each_file_and_the_instructor_sees_it(tenant_a, client, staff_user):
    aid = prestation(code="sejour", amount_rule="share", fixed_amount=None, share_percent=Decimal("40"),
                     once_per_event=False, documents=["Facture du séjour"])
    demande = services.save_draft(actor=None, agent=tenant_a.agent, prestation=aid, expense=Decimal("300"))
    client.force_login(tenant_a.agent_user)
    from django.urls import reverse

    page = client.get(reverse("espace:demande", args=[demande.pk])).content.decode()
    assert "Pièces encore attendues" in page and "Facture du séjour" in page
    kind = aid.required_documents.get()
    client.post(reverse("espace:demande_document", args=[demande.pk]),
                {"kind": str(kind.pk), "file": SimpleUploadedFile("sejour.pdf", PDF)})
    assert demande.documents.get().kind == kind
    demande = submitted(tenant_a.agent, aid, expense=Decimal("200"))
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    page = client.get(reverse("admin:prestations_demande_change", args=[demande.pk])).content.decode()
    assert "<strong>Facture du séjour</strong>" in page


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


@given(birth=st.dates(min_value=D(1990, 1, 1), max_value=D(2030, 12, 31)),
       day=st.dates(min_value=D(1990, 1, 1), max_value=D(2040, 12, 31)))
def test_age_is_counted_date_to_date(birth, day):
    age = age_on(birth, day)
    assert age == relativedelta(day, birth).years
    if day >= birth:
        assert age >= 0 and birth + relativedelta(years=age) <= day < birth + relativedelta(years=age + 1)


def test_the_facts_read_once_give_the_verdicts_of_the_queries(tenant_a, birth_aid, school_aid, relief):
    """The catalogue reads the agent's facts once (few queries whatever the number of prestations);
    every verdict is the one evaluate() gives by its own queries, requests granted, open or refused."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from prestations.eligibility import facts_of

    agent = tenant_a.agent
    yearly = prestation(code="annuelle", name="Aide annuelle", once_per_event=True)
    prestation(code="anciennete", name="Aide aux anciens", min_service_months=600)
    holiday = prestation(code="sejour", name="Séjour", once_per_event=True)
    granted(agent, relief, expense=Decimal("2600"))  # 1,300 € of the 1,500 € ceiling this year
    submitted(agent, yearly)  # open: the year's request is on its way
    refused = submitted(agent, holiday)
    services.refuse(actor=None, demande=refused, reason="Hors critères")  # refused: he may ask again
    baby = child_of(agent, "Léa", birth=TODAY - datetime.timedelta(days=3))
    granted(agent, birth_aid, child=baby)
    catalogue = list(Prestation.objects.prefetch_related("brackets"))
    facts = facts_of(agent, on=TODAY)
    for offered in catalogue:
        for options in ({}, {"expense": Decimal("800")}, {"child": baby}):
            with_queries = evaluate(agent=agent, prestation=offered, on=TODAY, **options)
            assert evaluate(agent=agent, prestation=offered, on=TODAY, facts=facts, **options) == with_queries
    verdicts = {p.code: evaluate(agent=agent, prestation=p, on=TODAY, facts=facts) for p in catalogue}
    assert "Une demande est déjà en cours pour cet événement." in verdicts["annuelle"].reasons
    assert any("ancienneté" in reason for reason in verdicts["anciennete"].reasons)
    assert verdicts["sejour"].eligible and verdicts["secours"].eligible
    with CaptureQueriesContext(connection) as queries:
        for offered in catalogue:
            evaluate(agent=agent, prestation=offered, on=TODAY, facts=facts)
    assert len(queries) == 0
    with pytest.raises(ValueError, match="another day"):
        evaluate(agent=agent, prestation=relief, on=TODAY + datetime.timedelta(days=1), facts=facts)
