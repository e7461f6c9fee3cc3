"""The roster in the collectivity space: list, search, filters, add, edit, end, export."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Agent
from adhesions import services
from adhesions.models import Coverage, Employment
from adhesions.selectors import coverage_on
from cnas.models import AuditEntry
from tests import world

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def rh(client, tenant_a):
    client.force_login(tenant_a.correspondent)
    return client


def roster_url(tenant, **params):
    from urllib.parse import urlencode

    return reverse("collectivite:roster", args=[tenant.employer.pk]) + ("?" + urlencode(params) if params else "")


def names(response):
    return [line.agent.last_name for line in response.context["page"]]


def test_search_filter_and_sort(rh, tenant_a):
    employer = tenant_a.employer
    world.hire(employer, D(2010, 1, 1), number="Z900", last_name="Zola", first_name="Émile")
    world.retire(world.hire(employer, D(1990, 1, 1), number="B100", last_name="Balzac", first_name="Honoré"),
                 D(2020, 1, 31))
    world.leave(world.hire(employer, D(2010, 1, 1), number="H200", last_name="Hugo", first_name="Victor"),
                D(2019, 5, 1), reason="transfer")
    world.hire(world.member_structure(), D(2010, 1, 1), last_name="Ailleurs")  # another adherent's agent
    assert names(rh.get(roster_url(tenant_a))) == ["Balzac", "Hugo", "Noma", "Zola"]
    assert names(rh.get(roster_url(tenant_a, q="zol"))) == ["Zola"]
    assert names(rh.get(roster_url(tenant_a, q="Z9"))) == ["Zola"]
    assert names(rh.get(roster_url(tenant_a, q="émile zola"))) == ["Zola"]
    assert names(rh.get(roster_url(tenant_a, situation="retired"))) == ["Balzac"]
    assert names(rh.get(roster_url(tenant_a, situation="left"))) == ["Hugo"]
    assert names(rh.get(roster_url(tenant_a, situation="working"))) == ["Noma", "Zola"]
    assert names(rh.get(roster_url(tenant_a, covered="yes"))) == ["Balzac", "Noma", "Zola"]  # retired covered
    assert names(rh.get(roster_url(tenant_a, sort="-matricule"))) == ["Zola", "Noma", "Hugo", "Balzac"]
    assert rh.get(roster_url(tenant_a, situation="nonsense")).status_code == 200  # bad input: no 500


def test_roster_query_count_does_not_grow_with_the_roster(rh, tenant_a, django_assert_max_num_queries):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert rh.get(roster_url(tenant_a, q="a", page=1)).status_code == 200
        return len(ctx.captured_queries)

    small = queries()
    for _ in range(120):
        world.hire(tenant_a.employer, D(2019, 1, 1), last_name="Nomad")
    assert queries() == small
    with django_assert_max_num_queries(12):
        rh.get(roster_url(tenant_a, page=3))


def test_pagination(rh, tenant_a):
    world.hire_many(tenant_a.employer, 60, D(2019, 1, 1))
    first, second = rh.get(roster_url(tenant_a)), rh.get(roster_url(tenant_a, page=2))
    assert len(first.context["page"]) == 50 and len(second.context["page"]) == 11
    assert "Page 1 sur 2" in first.content.decode()


def test_add_an_agent(rh, tenant_a):
    response = rh.post(reverse("collectivite:roster_add", args=[tenant_a.employer.pk]), {
        "employee_number": "N77", "last_name": "Curie", "first_name": "Marie", "birth_date": "1990-11-07",
        "start_date": "2022-01-03", "email": "marie.curie@exemple.test",
    })
    assert response.status_code == 302
    marie = Agent.objects.get(last_name="Curie")
    assert coverage_on(agent=marie).adherent == tenant_a.employer
    assert AuditEntry.objects.filter(action="roster.hire", object_id=str(marie.employments.get().pk)).count() == 1


@pytest.mark.parametrize("data, field, message", [
    ({"employee_number": "MAT-A"}, "employee_number", "déjà attribué"),
    ({"birth_date": "2090-01-01"}, "birth_date", "futur"),
    ({"start_date": "1980-01-01"}, "start_date", "précède"),
    ({"email": "pas-un-mail"}, "email", "valide"),
    ({"postcode": "123"}, "postcode", "code postal"),
])
def test_add_with_bad_input_changes_nothing(rh, tenant_a, data, field, message):
    Employment.objects.filter(agent=tenant_a.agent).update(employee_number="MAT-A")
    before = Agent.objects.count()
    form = {"employee_number": "N77", "last_name": "Curie", "first_name": "Marie", "birth_date": "1990-11-07",
            "start_date": "2022-01-03", **data}
    response = rh.post(reverse("collectivite:roster_add", args=[tenant_a.employer.pk]), form)
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert Agent.objects.count() == before


def test_edit_is_audited_and_shown_on_the_agent_page(rh, tenant_a):
    line = Employment.objects.get(agent=tenant_a.agent)
    url = reverse("collectivite:agent_edit", args=[tenant_a.employer.pk, line.pk])
    response = rh.get(url)
    assert response.context["form"].initial["last_name"] == "Noma"
    response = rh.post(url, {"employee_number": line.employee_number, "last_name": "Nouveau-Nom",
                             "first_name": "Agenta", "birth_date": "1985-06-15", "start_date": "2018-01-01"})
    assert response.status_code == 302
    page = rh.get(reverse("collectivite:agent", args=[tenant_a.employer.pk, line.pk])).content.decode()
    assert "nom : Noma → Nouveau-Nom" in page


def test_retirement_keeps_coverage_when_the_adhesion_covers_retired(rh, tenant_a):
    line = Employment.objects.get(agent=tenant_a.agent)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    response = rh.post(reverse("collectivite:agent_end", args=[tenant_a.employer.pk, line.pk]),
                       {"end_date": yesterday.isoformat(), "reason": "retirement"})
    assert response.status_code == 302
    tenant_a.agent.refresh_from_db()
    assert tenant_a.agent.status == "retired"
    coverage = coverage_on(agent=tenant_a.agent)
    assert coverage.adherent == tenant_a.employer and coverage.source == Coverage.Source.RETIREMENT


def test_retirement_keeps_rights_only_until_31_december_when_the_adhesion_does_not_cover_retired(rh, tenant_a):
    services.set_retired_coverage(actor=None, adhesion=tenant_a.employer.adhesions.get(), covers_retired=False,
                                  reason="Délibération")
    line = Employment.objects.get(agent=tenant_a.agent)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    rh.post(reverse("collectivite:agent_end", args=[tenant_a.employer.pk, line.pk]),
            {"end_date": yesterday.isoformat(), "reason": "retirement"})
    assert coverage_on(agent=tenant_a.agent).source == "extension"
    assert coverage_on(agent=tenant_a.agent, day=datetime.date(yesterday.year + 1, 1, 1)) is None
    assert coverage_on(agent=tenant_a.agent, day=yesterday).adherent == tenant_a.employer


def test_resignation_ends_coverage_and_cannot_be_recorded_twice(rh, tenant_a):
    line = Employment.objects.get(agent=tenant_a.agent)
    url = reverse("collectivite:agent_end", args=[tenant_a.employer.pk, line.pk])
    rh.post(url, {"end_date": "2024-03-31", "reason": "resignation"})
    assert coverage_on(agent=tenant_a.agent) is None  # kept until 31/12/2024, over now
    assert coverage_on(agent=tenant_a.agent, day=D(2024, 12, 31)).source == "extension"
    response = rh.post(url, {"end_date": "2024-04-30", "reason": "death"})
    assert "déjà terminé" in response.content.decode()
    line.refresh_from_db()
    assert line.end_date == D(2024, 3, 31)


def test_end_before_start_is_refused(rh, tenant_a):
    line = Employment.objects.get(agent=tenant_a.agent)
    response = rh.post(reverse("collectivite:agent_end", args=[tenant_a.employer.pk, line.pk]),
                       {"end_date": "2000-01-01", "reason": "resignation"})
    assert "précède" in response.content.decode()


def test_export_csv_and_xlsx_round_trip(rh, tenant_a, django_capture_on_commit_callbacks):
    world.hire(tenant_a.employer, D(2018, 1, 1), number="X1", last_name="Éluard", first_name="Paul",
               email="paul@exemple.test")
    response = rh.get(reverse("collectivite:roster_csv", args=[tenant_a.employer.pk]))
    assert response["Content-Type"].startswith("text/csv")
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["matricule", "nom", "prénom"]
    assert ["X1", "Éluard", "Paul", "15/06/1985", "paul@exemple.test", "01/01/2018", "actif", "", "", "oui"] in rows
    # what was exported imports back unchanged
    plan, _counts = services.import_roster_now(actor=None, adherent=tenant_a.employer, data=response.content,
                                               filename="export.csv", is_complete=True, apply=False)
    assert plan.errors == [] and plan.counts["created"] == plan.counts["updated"] == plan.counts["closed"] == 0

    response = rh.get(reverse("collectivite:roster_xlsx", args=[tenant_a.employer.pk]), {"q": "éluard"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 2 and values[1][1] == "Éluard"


def test_another_adherents_roster_answers_404(rh, tenant_a, tenant_b):
    other_line = Employment.objects.get(agent=tenant_b.agent)
    for name in ("roster", "roster_csv", "roster_xlsx", "roster_add"):
        assert rh.get(reverse(f"collectivite:{name}", args=[tenant_b.employer.pk])).status_code == 404
    for name in ("agent", "agent_edit", "agent_end"):
        assert rh.get(reverse(f"collectivite:{name}", args=[tenant_a.employer.pk, other_line.pk])).status_code == 404
        assert rh.get(reverse(f"collectivite:{name}", args=[tenant_b.employer.pk, other_line.pk])).status_code == 404
    assert rh.post(reverse("collectivite:agent_invite", args=[tenant_a.employer.pk, other_line.pk])).status_code == 404
    assert rh.post(reverse("collectivite:roster_invite_all", args=[tenant_b.employer.pk])).status_code == 404


def test_agents_and_cos_admins_have_no_access_to_the_roster(client, tenant_a):
    for user in (tenant_a.agent_user, tenant_a.cos_admin):
        client.force_login(user)
        assert client.get(roster_url(tenant_a)).status_code == 404


def test_roster_in_french_order_kept_through_renames_with_counts_cached_until_a_change(rh, tenant_a):
    """Names sort as in French (accents with their letter, not after Z); a renamed agent moves at once
    (the sort key follows his name, whoever renames him); the counts are read from the cache until the
    roster changes, then counted again."""
    employer = tenant_a.employer
    for last_name in ("Zola", "Émard", "Eco", "Ébène"):
        world.hire(employer, D(2019, 1, 1), last_name=last_name)
    shown = [n for n in names(rh.get(roster_url(tenant_a))) if n in ("Zola", "Émard", "Eco", "Ébène")]
    assert shown == ["Ébène", "Eco", "Émard", "Zola"]

    def page():
        with CaptureQueriesContext(connection) as ctx:
            response = rh.get(roster_url(tenant_a))
        return response, len(ctx.captured_queries)

    world.hire(employer, D(2019, 6, 1), last_name="Martin")  # a change: the next page counts again
    first, counted = page()
    again, cached = page()
    assert cached == counted - 2  # the number of lines and of agents to invite come from the cache
    total = first.context["page"].paginator.count
    assert again.context["page"].paginator.count == total
    zola = Employment.objects.get(employer=employer, agent__last_name="Zola")
    services.update_roster_entry(actor=tenant_a.correspondent, employment=zola, employee_number=zola.employee_number,
                                 start_date=zola.start_date, last_name="Abel", first_name="Marc")
    world.hire(employer, D(2020, 1, 1), last_name="Nouveau")
    after, recounted = page()
    assert recounted == counted and after.context["page"].paginator.count == total + 1
    assert [n for n in names(after) if n in ("Abel", "Ébène", "Zola")] == ["Abel", "Ébène"]
    assert not Employment.objects.filter(sort_name__startswith="Zola").exists()
