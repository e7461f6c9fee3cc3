"""The database itself keeps the rules: checksums, uniqueness, no overlapping periods."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateRange

from accounts.models import User
from adhesions.models import Adhesion, Coverage, Employment, Manager, check_manager_role
from adhesions.selectors import coverage_on, roster_counts
from tests import factories

pytestmark = pytest.mark.django_db

D = datetime.date


def test_user_email_is_unique_whatever_the_case():
    factories.UserFactory(email="Camille@Exemple.test")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="CAMILLE@exemple.test")


def test_adherent_siret_checksum_is_validated():
    adherent = factories.AdherentFactory.build(siret="21420130000014", region=factories.RegionFactory())
    with pytest.raises(ValidationError) as error:
        adherent.full_clean()
    assert "siret" in error.value.message_dict


def test_adherent_siret_is_unique():
    first = factories.AdherentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.AdherentFactory(siret=first.siret)


def test_adherent_kind_and_category_agree():
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.AdherentFactory(kind="cos", category="commune")


def test_one_open_employment_per_agent_and_employer():
    employment = factories.EmploymentFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Employment.objects.create(agent=employment.agent, employer=employment.employer,
                                  employee_number="AUTRE", start_date=D(2020, 1, 1))
    # Once the first is closed, the agent can be hired again.
    employment.end_date, employment.end_reason = D(2019, 12, 31), Employment.EndReason.TRANSFER
    employment.save()
    Employment.objects.create(agent=employment.agent, employer=employment.employer,
                              employee_number="AUTRE", start_date=D(2020, 1, 1))


def test_employee_number_unique_among_open_employments_of_an_employer():
    employment = factories.EmploymentFactory(employee_number="A1")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.EmploymentFactory(employer=employment.employer, employee_number="A1")
    factories.EmploymentFactory(employee_number="A1")  # another employer may use it


def test_ended_employment_needs_a_reason_and_ordered_dates():
    employment = factories.EmploymentFactory(start_date=D(2020, 1, 1))
    employment.end_date = D(2021, 1, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        employment.save()
    employment.end_reason = Employment.EndReason.RESIGNATION
    employment.end_date = D(2019, 1, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        employment.save()


def test_coverage_periods_of_an_agent_and_adherent_never_overlap():
    coverage = factories.CoverageFactory(period=DateRange(D(2020, 1, 1), D(2021, 1, 1), "[)"))
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.CoverageFactory(agent=coverage.agent, adherent=coverage.adherent,
                                  period=DateRange(D(2020, 12, 31), None, "[)"))
    # Adjacent periods are fine, and so is another adherent over the same dates.
    factories.CoverageFactory(agent=coverage.agent, adherent=coverage.adherent,
                              period=DateRange(D(2021, 1, 1), None, "[)"))
    factories.CoverageFactory(agent=coverage.agent, period=DateRange(D(2020, 6, 1), None, "[)"))


def test_coverage_needs_a_start():
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.CoverageFactory(period=DateRange(None, D(2021, 1, 1), "[)"))


def test_adhesions_of_an_adherent_never_overlap():
    adhesion = factories.AdhesionFactory(start_date=D(2015, 1, 1), end_date=D(2020, 12, 31))
    with pytest.raises(IntegrityError), transaction.atomic():
        Adhesion.objects.create(adherent=adhesion.adherent, start_date=D(2020, 6, 1))
    Adhesion.objects.create(adherent=adhesion.adherent, start_date=D(2021, 1, 1))


def test_only_one_spouse_per_household():
    spouse = factories.FamilyMemberFactory(relation="spouse")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.FamilyMemberFactory(agent=spouse.agent, relation="spouse")


def test_manager_role_must_fit_the_adherent_kind():
    cos = factories.AdherentFactory(cos=True)
    with pytest.raises(ValidationError):
        check_manager_role(adherent=cos, role=Manager.Role.CORRESPONDENT)
    check_manager_role(adherent=cos, role=Manager.Role.COS_ADMIN)
    manager = factories.ManagerFactory.build(adherent=cos, role=Manager.Role.CORRESPONDENT,
                                             user=factories.UserFactory())
    with pytest.raises(ValidationError):
        manager.full_clean()


def test_coverage_on_answers_with_the_adherent_of_the_day():
    coverage = factories.CoverageFactory(period=DateRange(D(2020, 1, 1), D(2021, 1, 1), "[)"))
    assert coverage_on(agent=coverage.agent, day=D(2020, 12, 31)) == coverage
    assert coverage_on(agent=coverage.agent, day=D(2021, 1, 1)) is None
    assert coverage_on(agent=coverage.agent, day=D(2019, 12, 31)) is None
    assert coverage.end_date == D(2020, 12, 31)


def test_roster_counts_working_and_retired():
    employer = factories.AdherentFactory()
    factories.EmploymentFactory.create_batch(3, employer=employer)
    retired = factories.EmploymentFactory(employer=employer, agent__status="retired",
                                          end_date=D(2023, 6, 30), end_reason="retirement")
    factories.EmploymentFactory(employer=employer, end_date=D(2022, 1, 1), end_reason="transfer")
    assert roster_counts(adherent=employer, day=D(2024, 1, 1)) == {"working": 3, "retired": 1}
    assert retired.agent.status == "retired"


def test_open_coverage_service_is_audited():
    from adhesions.services import register_employment
    from cnas.models import AuditEntry

    employer = factories.AdhesionFactory(start_date=D(2019, 1, 1)).adherent
    agent = factories.AgentFactory()
    actor = factories.UserFactory()
    register_employment(actor=actor, agent=agent, employer=employer, employee_number=" X9 ",
                        start_date=D(2018, 5, 1))
    coverage = Coverage.objects.get(agent=agent)
    assert coverage.start_date == D(2019, 1, 1) and coverage.end_date is None
    employment = Employment.objects.get(agent=agent)
    actions = list(AuditEntry.objects.for_object(employment).values_list("action", flat=True))
    assert actions == ["employment.register"]  # coverage is derived from the roster
    assert Employment.objects.get(agent=agent).employee_number == "X9"
