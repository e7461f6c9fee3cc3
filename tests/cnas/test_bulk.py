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
