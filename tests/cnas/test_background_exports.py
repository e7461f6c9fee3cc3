"""Admin lists exported by the worker with the list's filters and the author's scope, for the
author only: CSV (`;`, BOM, no formula) and XLSX, a progress page, a private download link."""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from cnas import background_exports
from cnas.models import AuditEntry, ExportJob
from tests import world
from tests.prestations.conftest import prestation, submitted
from tests.security.conftest import staff

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def requests_of_two_regions(tenant_a, tenant_b):
    aid = prestation(code="aide", name="Aide exceptionnelle")
    mine = [submitted(tenant_a.agent, prestation(code=f"aide{n}", name=f"=Aide {n}")) for n in range(3)]
    theirs = submitted(tenant_b.agent, aid)
    return mine, theirs


def export(client, url, query, fmt, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the worker, eager here
        response = client.post(reverse("admin:prestations_demande_export"), {"query": query, "format": fmt},
                               follow=True)
    assert response.status_code == 200
    assert "Préparation par le worker" in response.content.decode()  # its page, before the worker runs
    job = ExportJob.objects.latest("id")
    return job, client.get(reverse("admin:cnas_exportjob_change", args=[job.pk]))


def test_a_list_exports_with_its_filters_and_my_scope_for_me_only(
        tenant_a, requests_of_two_regions, django_capture_on_commit_callbacks):
    mine, theirs = requests_of_two_regions
    instructor = staff("instr-a@cnas.test", "Instructeur", region=tenant_a.employer.region)
    client = client_of(instructor)
    changelist = client.get(reverse("admin:prestations_demande_changelist") + "?file=toutes")
    assert "Exporter en CSV" in changelist.content.decode()
    job, page = export(client, reverse("admin:prestations_demande_export"), "file=toutes", "csv",
                       django_capture_on_commit_callbacks)
    assert job.status == "done" and job.written == 3 and job.author == instructor
    assert "Télécharger le fichier" in page.content.decode()
    download = client.get(reverse("admin:cnas_exportjob_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    content = b"".join(download.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["N°", "Agent", "Prestation"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(d.pk for d in mine)  # region B's is not there
    assert all(r[2].startswith("'=") for r in rows[1:])  # no formula reaches the spreadsheet
    assert AuditEntry.objects.filter(action="export.request", actor=instructor).exists()

    # A filter of the list narrows the file.
    job, _ = export(client, None, f"file=toutes&q={mine[0].pk}&prestation={mine[0].prestation_id}",
                    "xlsx", django_capture_on_commit_callbacks)
    sheet = load_workbook(io.BytesIO(b"".join(client.get(reverse("admin:cnas_exportjob_download", args=[
        job.pk])).streaming_content))).active
    values = list(sheet.values)
    assert len(values) == 2 and values[1][0] == mine[0].pk

    # Somebody else, superuser or colleague: not found; nor after seven days.
    other = client_of(staff("instr-b@cnas.test", "Instructeur", region=theirs.region))
    assert other.get(reverse("admin:cnas_exportjob_download", args=[job.pk])).status_code == 404
    assert other.get(reverse("admin:cnas_exportjob_change", args=[job.pk])).status_code in (302, 403, 404)
    assert job.pk not in [row.pk for row in other.get(reverse("admin:cnas_exportjob_changelist"))
                          .context["cl"].result_list]
    ExportJob.objects.filter(pk=job.pk).update(created_at=job.created_at - datetime.timedelta(days=8))
    assert client.get(reverse("admin:cnas_exportjob_download", args=[job.pk])).status_code == 404


def test_bad_export_requests_change_nothing(tenant_a, requests_of_two_regions, django_capture_on_commit_callbacks):
    client = client_of(staff("instr-a@cnas.test", "Instructeur", region=tenant_a.employer.region))
    response = client.post(reverse("admin:prestations_demande_export"), {"query": "", "format": "exe"}, follow=True)
    assert "Format d'export inconnu" in response.content.decode().replace("&#x27;", "'")
    assert not ExportJob.objects.exists()
    job, _page = export(client, None, "nonsense__gt=1", "csv", django_capture_on_commit_callbacks)
    assert job.status == "failed" and "filtres" in job.failure
    assert client.get(reverse("admin:prestations_demande_export")).status_code == 403  # POST only


def test_large_lists_are_written_row_by_row(tenant_a, monkeypatch, django_capture_on_commit_callbacks):
    """Progress is written as the rows go (every PROGRESS_EVERY), and the rows are read from the
    database in chunks, never as one list (the benchmark measures a million rows)."""
    monkeypatch.setattr(background_exports, "PROGRESS_EVERY", 10)
    for n in range(25):
        world.hire(tenant_a.employer, datetime.date(2019, 1, 1), first_name=f"Agent{n}", last_name=f"Nom{n}")
    supervisor = staff("superv@cnas.test", "Superviseur", national=True)
    client = client_of(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:accounts_agent_export"), {"query": "", "format": "csv"})
    job = ExportJob.objects.get()
    assert job.status == "done" and job.written == job.total >= 26
