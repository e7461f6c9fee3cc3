"""A worker process killed with SIGKILL in the middle of a roster import, with decision letters and
e-mails waiting behind it: once a new worker starts, everything is done exactly once, within two
minutes (real `celery worker` processes on the real Redis broker, e-mails written to files)."""

import datetime
import email
import signal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Agent
from adhesions.models import RosterImport
from cnas.celery import app
from cnas.models import AuditEntry, OutboxItem
from prestations.models import Demande
from tests import world
from tests.adhesions.test_roster_import import csv_file
from tests.prestations.conftest import prestation, submitted
from tests.prestations.test_demandes import staff_client
from tests.workers import start_worker, stop_worker, wait

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
LINES = 8000  # about 6 s of writing here: time to queue the letters and kill the worker


def roster_lines(count: int) -> list[str]:
    return [f"K{n:05d};Nouveau{n};Agent;03/02/1990;k{n}@exemple.test;01/03/2020;actif;" for n in range(count)]


def sent_mail(folder: Path) -> list[str]:
    """Every recipient of every message the worker wrote (the file e-mail backend)."""
    recipients = []
    for path in folder.glob("*.log"):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                recipients.append(email.message_from_string(chunk.strip())["To"])
    return sorted(recipients)


def test_a_killed_worker_loses_nothing_and_does_nothing_twice(tenant_a, tmp_path, not_eager):
    app.connection_for_write().default_channel.client.flushdb()  # an empty broker for this test
    aid = prestation(code="aide", name="Aide exceptionnelle")
    agents = [world.hire(tenant_a.employer, datetime.date(2019, 1, 1), email=f"demandeur{n}@exemple.test").agent
              for n in range(3)]
    demandes = [submitted(agent, aid) for agent in agents]  # three e-mails sent to the broker
    mailbox = tmp_path / "mails"
    mailbox.mkdir()
    worker_env = {"EMAIL_URL": f"filemail:///{mailbox}"}
    worker = start_worker(**worker_env)
    try:
        wait(lambda: len(sent_mail(mailbox)) == 3, 60, "the first e-mails")

        correspondent = Client()
        correspondent.force_login(tenant_a.correspondent)
        response = correspondent.post(reverse("collectivite:imports", args=[tenant_a.employer.pk]),
                                      {"file": csv_file(*roster_lines(LINES))})
        assert response.status_code == 302
        record = RosterImport.objects.get(adherent=tenant_a.employer)
        wait(lambda: RosterImport.objects.get(pk=record.pk).status == "ready", 90, "the check")
        agents_before = Agent.objects.count()

        correspondent.post(reverse("collectivite:import_confirm", args=[tenant_a.employer.pk, record.pk]))
        apply_item = OutboxItem.objects.get(task="adhesions.tasks.apply_roster_import")
        wait(lambda: OutboxItem.objects.filter(pk=apply_item.pk, started_at__isnull=False).exists(), 30,
             "the import to start")
        staff = staff_client()
        for demande in demandes:  # letters and e-mails queued behind the import
            staff.post(reverse("admin:prestations_demande_instruct", args=[demande.pk]),
                       {"action": "accept", "amount": "", "reason": ""})
        assert Demande.objects.filter(status="accepted").count() == 3

        worker.send_signal(signal.SIGKILL)  # in the middle of the import
        worker.wait(timeout=10)
        record.refresh_from_db()
        assert record.status == "applying", "the worker must be killed in the middle of the import"
        assert Agent.objects.count() == agents_before  # all or nothing: nothing
        assert not Demande.objects.exclude(decision_pdf="").exists()
        assert len(sent_mail(mailbox)) == 3

        worker = start_worker(**worker_env)  # it takes up, from the database, what was unfinished
        wait(lambda: not OutboxItem.objects.filter(completed_at__isnull=True).exists(), 120, "the work to finish",
             every=0.5)
    finally:
        stop_worker(worker)

    record.refresh_from_db()
    assert record.status == "applied" and record.created_count == LINES
    assert Agent.objects.count() == agents_before + LINES
    assert Agent.objects.filter(last_name__istartswith="nouveau").values("last_name").distinct().count() == LINES
    assert AuditEntry.objects.filter(action="roster_import.apply").count() == 1
    assert not Demande.objects.filter(decision_pdf="").exists()
    assert sent_mail(mailbox) == sorted([f"demandeur{n}@exemple.test" for n in range(3)] * 2)  # sent, accepted
    apply_item.refresh_from_db()
    assert apply_item.attempts == 2
    assert not OutboxItem.objects.exclude(pk=apply_item.pk).filter(attempts__gt=1).exists()
