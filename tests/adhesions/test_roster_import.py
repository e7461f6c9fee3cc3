"""Importing a roster: preview first, then all or nothing; twice changes nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import Agent
from adhesions.models import Coverage, Employment, RosterImport
from adhesions.selectors import coverage_on
from cnas.models import AuditEntry
from tests import world

pytestmark = pytest.mark.django_db

HEADER = "Matricule;Nom;Prénom;Date de naissance;E-mail;Date d'entrée;Statut;Date de sortie"


def csv_file(*lines, name="effectif.csv", header=HEADER):
    return SimpleUploadedFile(name, ("\n".join([header, *lines]) + "\n").encode("utf-8"), "text/csv")


def upload(client, tenant, *lines, complete=False, **kwargs):
    data = {"file": csv_file(*lines, **kwargs)}
    if complete:
        data["is_complete"] = "on"
    response = client.post(reverse("collectivite:imports", args=[tenant.employer.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return RosterImport.objects.latest("id")


@pytest.fixture
def correspondent(client, tenant_a, django_capture_on_commit_callbacks):
    client.force_login(tenant_a.correspondent)
    return client


def test_upload_preview_then_confirm(correspondent, tenant_a, django_capture_on_commit_callbacks):
    existing = Employment.objects.get(agent=tenant_a.agent)
    with django_capture_on_commit_callbacks(execute=True):
        record = upload(correspondent, tenant_a,
                        f"{existing.employee_number};{tenant_a.agent.last_name};{tenant_a.agent.first_name};"
                        f"15/06/1985;nouveau@exemple.test;01/01/2018;actif;",
                        "N1;Durand;Émilie;03/02/1990;emilie@exemple.test;01/03/2020;actif;",
                        "N2;Petit;Luc;15/07/1958;;01/01/1990;retraité;31/07/2020")
    record.refresh_from_db()
    assert record.status == RosterImport.Status.READY
    assert (record.created_count, record.updated_count, record.unchanged_count) == (2, 1, 0)
    assert not Agent.objects.filter(last_name="Durand").exists()  # nothing written yet
    page = correspondent.get(reverse("collectivite:import", args=[tenant_a.employer.pk, record.pk]))
    text = page.content.decode()
    assert "DURAND Émilie" in text and "e-mail" in text and "Confirmer l'import" in text

    with django_capture_on_commit_callbacks(execute=True):
        correspondent.post(reverse("collectivite:import_confirm", args=[tenant_a.employer.pk, record.pk]))
    record.refresh_from_db()
    assert record.status == RosterImport.Status.APPLIED
    emilie = Agent.objects.get(last_name="Durand")
    assert coverage_on(agent=emilie, day=datetime.date(2021, 1, 1)).adherent == tenant_a.employer
    luc = Agent.objects.get(last_name="Petit")
    assert luc.status == "retired"
    # the employer's adhesion covers retired staff: covered after retirement too
    assert Coverage.objects.filter(agent=luc, source="retirement").exists()
    tenant_a.agent.refresh_from_db()
    assert tenant_a.agent.email == "nouveau@exemple.test"
    assert AuditEntry.objects.filter(action="roster.import").count() == 3

    # The same file again changes nothing.
    counts = (Agent.objects.count(), Employment.objects.count(), Coverage.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        again = upload(correspondent, tenant_a,
                       f"{existing.employee_number};{tenant_a.agent.last_name};{tenant_a.agent.first_name};"
                       f"15/06/1985;nouveau@exemple.test;01/01/2018;actif;",
                       "N1;Durand;Émilie;03/02/1990;emilie@exemple.test;01/03/2020;actif;",
                       "N2;Petit;Luc;15/07/1958;;01/01/1990;retraité;31/07/2020")
    again.refresh_from_db()
    assert (again.created_count, again.updated_count, again.closed_count, again.unchanged_count) == (0, 0, 0, 3)
    assert "déjà été importé" in correspondent.get(
        reverse("collectivite:import", args=[tenant_a.employer.pk, again.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        correspondent.post(reverse("collectivite:import_confirm", args=[tenant_a.employer.pk, again.pk]))
    assert (Agent.objects.count(), Employment.objects.count(), Coverage.objects.count()) == counts


def test_file_with_errors_cannot_be_confirmed_and_writes_nothing(correspondent, tenant_a,
                                                                 django_capture_on_commit_callbacks):
    before = Agent.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        record = upload(correspondent, tenant_a, "N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;",
                        "N2;Petit;Luc;15/07/2050;;01/01/1990;actif;")
    record.refresh_from_db()
    assert record.status == RosterImport.Status.INVALID
    assert record.errors == [{"line": 3, "column": "date de naissance", "value": "15/07/2050",
                              "message": "Cette date est dans le futur."}]
    with django_capture_on_commit_callbacks(execute=True):
        correspondent.post(reverse("collectivite:import_confirm", args=[tenant_a.employer.pk, record.pk]))
    record.refresh_from_db()
    assert record.status == RosterImport.Status.INVALID
    assert Agent.objects.count() == before


def test_complete_file_closes_agents_missing_from_it(correspondent, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = upload(correspondent, tenant_a, "N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;", complete=True)
    record.refresh_from_db()
    assert record.closed_count == 1
    assert record.preview["close"][0]["name"].startswith("NOMA")
    with django_capture_on_commit_callbacks(execute=True):
        correspondent.post(reverse("collectivite:import_confirm", args=[tenant_a.employer.pk, record.pk]))
    line = Employment.objects.get(agent=tenant_a.agent)
    assert line.end_date is not None and line.end_reason == Employment.EndReason.OTHER
    kept = coverage_on(agent=tenant_a.agent)  # his rights are kept until 31 December, then end
    assert kept.source == "extension" and kept.end_date == datetime.date(line.end_date.year, 12, 31)
    assert coverage_on(agent=tenant_a.agent, day=datetime.date(line.end_date.year + 1, 1, 1)) is None


def test_number_of_another_agent_is_an_error(correspondent, tenant_a, django_capture_on_commit_callbacks):
    existing = Employment.objects.get(agent=tenant_a.agent)
    with django_capture_on_commit_callbacks(execute=True):
        record = upload(correspondent, tenant_a,
                        f"{existing.employee_number};Intrus;Paul;01/01/1970;;01/01/2000;actif;")
    record.refresh_from_db()
    assert record.status == RosterImport.Status.INVALID
    assert "appartient déjà à un autre agent" in record.errors[0]["message"]


def test_roster_changed_between_check_and_confirm(correspondent, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = upload(correspondent, tenant_a, "N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;")
    # meanwhile someone else puts another person under N1
    world.hire(tenant_a.employer, datetime.date(2019, 1, 1), number="N1", birth_date=datetime.date(1971, 1, 1))
    with django_capture_on_commit_callbacks(execute=True):
        correspondent.post(reverse("collectivite:import_confirm", args=[tenant_a.employer.pk, record.pk]))
    record.refresh_from_db()
    assert record.status == RosterImport.Status.INVALID and "a changé" in record.failure
    assert not Agent.objects.filter(last_name="Durand").exists()


@pytest.mark.parametrize("content, name, message", [
    (b"", "vide.csv", "est vide"),
    (b"\x00\x01\x02\x03binary", "photo.csv", "binaire"),
    (b"x", "photo.png", "Type de fichier non accepté"),
    (b"Nom;Prenom\nA;B\n", "effectif.csv", "Colonnes obligatoires absentes"),
])
def test_bad_files_get_a_clear_message(correspondent, tenant_a, django_capture_on_commit_callbacks,
                                       content, name, message):
    url = reverse("collectivite:imports", args=[tenant_a.employer.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = correspondent.post(url, {"file": SimpleUploadedFile(name, content)})
    if response.status_code == 302:  # stored, then checked by the worker
        response = correspondent.get(response.url)
        assert RosterImport.objects.get().status == RosterImport.Status.INVALID
    assert response.status_code == 200
    assert message in response.content.decode()


def test_a_50_mb_upload_is_refused_before_it_is_read(correspondent, tenant_a):
    url = reverse("collectivite:imports", args=[tenant_a.employer.pk])
    big = SimpleUploadedFile("enorme.csv", b"a" * (50 * 1024 * 1024))
    response = correspondent.post(url, {"file": big})
    assert response.status_code == 413
    assert "Fichier trop volumineux" in response.content.decode()
    assert not RosterImport.objects.exists()


def test_progress_endpoint(correspondent, tenant_a):
    record = RosterImport.objects.create(adherent=tenant_a.employer, original_name="x.csv", sha256="0", size=1,
                                         file=SimpleUploadedFile("x.csv", b"x"))
    data = correspondent.get(reverse("collectivite:import_status", args=[tenant_a.employer.pk, record.pk])).json()
    assert data["running"] is True and data["status"] == "pending"


def test_imports_of_another_adherent_answer_404(correspondent, tenant_a, tenant_b):
    record = RosterImport.objects.create(adherent=tenant_b.employer, original_name="x.csv", sha256="0", size=1,
                                         file=SimpleUploadedFile("x.csv", b"x"))
    for name in ("import", "import_status", "import_file"):
        for adherent in (tenant_a.employer, tenant_b.employer):
            url = reverse(f"collectivite:{name}", args=[adherent.pk, record.pk])
            assert correspondent.get(url).status_code == 404
    for name in ("import_confirm", "import_cancel"):
        url = reverse(f"collectivite:{name}", args=[tenant_a.employer.pk, record.pk])
        assert correspondent.post(url).status_code == 404
    assert correspondent.get(reverse("collectivite:imports", args=[tenant_b.employer.pk])).status_code == 404


def test_download_of_the_uploaded_file_is_private(correspondent, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record = upload(correspondent, tenant_a, "N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;")
    url = reverse("collectivite:import_file", args=[tenant_a.employer.pk, record.pk])
    response = correspondent.get(url)
    assert response.status_code == 200 and b"Durand" in b"".join(response.streaming_content)
    assert "no-store" in response["Cache-Control"]
    assert not record.file.name.startswith("/")
    with pytest.raises(ValueError):
        record.file.url  # noqa: B018 - private files have no URL


# --- The command line ---------------------------------------------------------------------

def write(tmp_path, *lines):
    path = tmp_path / "effectif.csv"
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="cp1252")
    return path


def test_import_roster_command_previews_then_applies(tmp_path, tenant_a, capsys):
    path = write(tmp_path, "N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;")
    call_command("import_roster", tenant_a.employer.siret, str(path))
    out = capsys.readouterr().out
    assert "À créer : 1" in out and "DURAND Émilie" in out and "Rien n'a été écrit" in out
    assert not Agent.objects.filter(last_name="Durand").exists()
    call_command("import_roster", tenant_a.employer.siret, str(path), "--apply")
    assert "Appliqué : 1 créé(s)" in capsys.readouterr().out
    assert Agent.objects.filter(last_name="Durand").exists()
    call_command("import_roster", tenant_a.employer.siret, str(path), "--apply")
    assert "Appliqué : 0 créé(s), 0 mis à jour, 0 sorti(s)" in capsys.readouterr().out


def test_import_roster_command_fails_on_errors_and_writes_nothing(tmp_path, tenant_a, capsys):
    path = write(tmp_path, "N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;", "N2;Petit;Luc;32/01/1990;;01/03/2020;;")
    with pytest.raises(CommandError, match="1 erreur"):
        call_command("import_roster", tenant_a.employer.siret, str(path), "--apply")
    assert "ligne 3" in capsys.readouterr().out
    assert not Agent.objects.filter(last_name="Durand").exists()


def test_import_roster_command_unknown_siret(tmp_path, db):
    with pytest.raises(CommandError, match="Aucun adhérent"):
        call_command("import_roster", "73282932000074", str(write(tmp_path)))
