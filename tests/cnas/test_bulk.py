"""Bulk loads (the generated worlds): the secondary indexes are dropped and built again, the same,
and a failed load leaves the table and its indexes as they were."""

import pytest
from django.db import connection

from cnas.bulk import indexes_built_after

pytestmark = pytest.mark.django_db


def definitions(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname", [table])
        return [row[0] for row in cursor.fetchall()]


def foreign_keys(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint "
                       "WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY 1", [table])
        return [row[0] for row in cursor.fetchall()]


def test_a_row_that_breaks_a_foreign_key_fails_the_load(tenant_a):
    from django.db import IntegrityError

    from accounts.models import FamilyMember

    keys = foreign_keys("accounts_familymember")
    assert keys
    with pytest.raises(IntegrityError), indexes_built_after("accounts_familymember"):
        assert foreign_keys("accounts_familymember") == []
        FamilyMember.objects.create(agent_id=10**9, relation="child", first_name="Nul", last_name="X",
                                    birth_date="2020-01-01")
    assert foreign_keys("accounts_familymember") == keys
    assert not FamilyMember.objects.filter(first_name="Nul").exists()


def test_indexes_are_built_again_after_the_load_and_kept_when_it_fails(tenant_a):
    from accounts.models import FamilyMember

    before = definitions("accounts_familymember")
    assert len(before) >= 2
    with indexes_built_after("accounts_familymember"):
        assert definitions("accounts_familymember") == [d for d in before if "_pkey" in d]  # only the constraint's
        FamilyMember.objects.create(agent=tenant_a.agent, relation="child", first_name="Léa", last_name="X",
                                    birth_date="2020-01-01")
    assert definitions("accounts_familymember") == before
    with pytest.raises(ZeroDivisionError), indexes_built_after("accounts_familymember"):
        FamilyMember.objects.create(agent=tenant_a.agent, relation="child", first_name="Zoé", last_name="X",
                                    birth_date="2021-01-01")
        1 / 0  # noqa: B018
    assert definitions("accounts_familymember") == before
    assert not FamilyMember.objects.filter(first_name="Zoé").exists()
    assert foreign_keys("accounts_familymember")
    assert FamilyMember.objects.filter(first_name="Léa").exists()


def test_an_overlap_loaded_in_bulk_fails_when_the_exclusion_constraint_comes_back(tenant_a):
    """The coverage's no-overlap constraint is dropped for the load and checked on every row when it is made
    again: two overlapping periods of one agent with one adherent fail the load, which leaves nothing."""
    from django.db import IntegrityError

    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'x' AND conrelid = "
                       "'adhesions_coverage'::regclass")
        exclusions = cursor.fetchall()
    assert exclusions == [("coverage_no_overlap",)]
    insert = ("INSERT INTO adhesions_coverage (agent_id, adherent_id, period, source, created_at) "
              "VALUES (%s, %s, daterange(%s, NULL), 'employment', now())")
    with pytest.raises(IntegrityError), indexes_built_after("adhesions_coverage"), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'x' AND conrelid = "
                       "'adhesions_coverage'::regclass")
        assert cursor.fetchone() == (0,)  # dropped for the load
        cursor.execute(insert, [tenant_a.agent.pk, tenant_a.employer.pk, "2001-01-01"])
        cursor.execute(insert, [tenant_a.agent.pk, tenant_a.employer.pk, "2002-01-01"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT conname FROM pg_constraint WHERE contype = 'x' AND conrelid = "
                       "'adhesions_coverage'::regclass")
        assert cursor.fetchall() == exclusions
        cursor.execute("SELECT count(*) FROM adhesions_coverage WHERE lower(period) IN ('2001-01-01', '2002-01-01')")
        assert cursor.fetchone() == (0,)
