"""The outbox's own promises, on the real PostgreSQL: work recorded with the change that causes it
(and not without it), run once even when delivered twice or at once, retried later when it meets
a locked row, retried with a growing delay when it fails, then abandoned and shown on /sante/."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cnas import outbox, tasks
from cnas.celery import app
from cnas.models import AuditEntry, Heartbeat, IdempotencyKey, OutboxItem
from prestations import services
from tests.prestations.conftest import granted, prestation, submitted
from tests.reliability.conftest import OtherSession, RowLock
from tests.security.conftest import staff

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def quiet_broker(not_eager):
    """Messages go to the real broker, which no worker reads: the test runs the items itself, as
    the worker would."""
    client = app.connection_for_write().default_channel.client
    client.flushdb()
    yield
    client.flushdb()


def test_work_is_recorded_with_its_change_and_only_with_it(tenant_a):
    aid = prestation(code="aide", name="Aide exceptionnelle")
    demande = services.save_draft(actor=None, agent=tenant_a.agent, prestation=aid)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.withdraw(actor=None, demande=demande)
        raise RuntimeError("the transaction fails after the change")
    assert not OutboxItem.objects.exists()  # nothing to send for a change that did not happen
    submitted(tenant_a.agent, aid)
    (item,) = OutboxItem.objects.all()
    assert item.task == "cnas.tasks.send_email" and item.completed_at  # eager here: done at the commit
    assert [m.to for m in mail.outbox] == [[tenant_a.agent_user.email]]


def test_a_letter_that_meets_a_locked_request_is_rendered_later(tenant_a, quiet_broker):
    demande = granted(tenant_a.agent, prestation(code="aide", name="Aide exceptionnelle"))
    letter = OutboxItem.objects.get(task="prestations.tasks.render_decision")
    lock = RowLock("prestations_demande", demande.pk)  # a second click, a batch being prepared
    try:
        assert outbox.run(letter.pk) == "later"
    finally:
        lock.release()
    letter.refresh_from_db()
    demande.refresh_from_db()
    assert not demande.decision_pdf and letter.completed_at is None and letter.published_at is None
    assert letter.next_attempt_at > timezone.now() and "try again" in letter.last_error
    assert outbox.relay() == 0  # not due yet
    app.conf.task_always_eager = True  # what the worker does with what the relay hands it
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=6)):
        assert outbox.relay() == 1
    letter.refresh_from_db()
    demande.refresh_from_db()
    assert demande.decision_pdf and letter.completed_at and letter.attempts == 2


def test_an_item_delivered_twice_or_at_once_runs_once(tenant_a, quiet_broker):
    submitted(tenant_a.agent, prestation(code="aide", name="Aide exceptionnelle"))
    item = OutboxItem.objects.get()
    assert item.published_at and not item.completed_at
    other = OtherSession()  # another worker runs it right now: its session holds the item's lock
    other.execute("SELECT pg_advisory_lock(%s, %s)", [outbox.LOCK_NAMESPACE, item.pk])
    try:
        assert outbox.run(item.pk) == "running elsewhere"
        assert outbox.relay(republish_after=datetime.timedelta(0)) == 0  # running: not published again
    finally:
        other.release()  # (a worker killed with SIGKILL loses its session, and so its lock)
    assert mail.outbox == []
    assert outbox.run(item.pk) == "done"
    assert outbox.run(item.pk) == "nothing to do"  # the copy of the message Redis gives back later
    assert len(mail.outbox) == 1


def abandon(item: OutboxItem) -> list[float]:
    """Run the item as the worker would, each time it is due, until it is abandoned; the delays."""
    delays = []
    now = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS):
        with time_machine.travel(now, tick=False):
            assert outbox.run(item.pk) == "failed"
        item.refresh_from_db()
        delays.append((item.next_attempt_at - now).total_seconds())
        now = item.next_attempt_at
    return delays


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1  # nobody there

    def mended():
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        app.conf.task_always_eager = True  # what the worker does with what is published from now

    return mended


def test_a_failing_task_is_retried_with_a_growing_delay_then_abandoned_and_shown_on_health(
        tenant_a, quiet_broker, mail_server_down):
    submitted(tenant_a.agent, prestation(code="aide", name="Aide exceptionnelle"))
    item = OutboxItem.objects.get()
    delays = abandon(item)
    assert delays[:4] == [5, 10, 20, 40] and max(delays) == 3600
    assert item.failed_at and "ConnectionRefusedError" in item.last_error
    assert outbox.relay(republish_after=datetime.timedelta(0)) == 0  # abandoned: left alone
    health = Client().get(reverse("health"))
    assert health.status_code == 503 and health.json()["checks"]["outbox"]["failed"] == 1


def test_staff_relaunch_abandoned_work_from_the_admin(tenant_a, quiet_broker, mail_server_down):
    submitted(tenant_a.agent, prestation(code="aide", name="Aide exceptionnelle"))
    item = OutboxItem.objects.get()
    abandon(item)
    mail_server_down()  # mended
    changelist = reverse("admin:cnas_outboxitem_changelist")
    instructor = Client()
    instructor.force_login(staff("instr@cnas.test", "Instructeur", region=tenant_a.employer.region))
    assert instructor.get(changelist).status_code == 403  # the whole portal's work: not a regional right
    assert instructor.post(changelist, {"action": "retry", "_selected_action": [item.pk]}).status_code == 403
    item.refresh_from_db()
    assert item.failed_at and not item.completed_at

    supervisor = Client()
    supervisor.force_login(staff("superv@cnas.test", "Superviseur", national=True))
    page = supervisor.get(changelist + "?failed_at__isempty=0")
    assert page.status_code == 200 and "abandonné" in page.content.decode()
    response = supervisor.post(changelist, {"action": "retry", "_selected_action": [item.pk]}, follow=True)
    assert "1 travail relancé" in response.content.decode()
    item.refresh_from_db()
    assert item.completed_at and item.attempts == 1 and len(mail.outbox) == 1
    assert AuditEntry.objects.filter(action="outbox.retry", actor__email="superv@cnas.test").count() == 1


def test_same_work_asked_twice_waits_once():
    first = outbox.enqueue("adhesions.tasks.render_chunk", chunk_id=1, dedupe_key="render_chunk:1")
    again = outbox.enqueue("adhesions.tasks.render_chunk", chunk_id=1, dedupe_key="render_chunk:1")
    assert first.pk == again.pk and OutboxItem.objects.count() == 1


# --- /sante/ ---------------------------------------------------------------------------------

def alive():
    tasks.heartbeat()  # what beat has a worker run every 30 seconds
    tasks.beat("beat")  # what beat's own thread writes every 30 seconds


def test_health_is_ok_when_everything_is(client):
    alive()
    response = client.get(reverse("health"))
    assert response.status_code == 200, response.json()
    assert set(response.json()["checks"]) == {"database", "redis", "worker", "beat", "outbox"}


def test_health_is_503_when_the_worker_is_silent(client):
    alive()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        tasks.beat("beat")
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert not response.json()["checks"]["worker"]["ok"] and response.json()["checks"]["beat"]["ok"]
    Heartbeat.objects.all().delete()
    assert client.get(reverse("health")).json()["checks"]["beat"]["error"] == "aucun signe de vie"


def test_health_is_503_when_redis_is_down(client, settings):
    alive()
    settings.REDIS_URL = "redis://127.0.0.1:9/0"
    response = client.get(reverse("health"))
    assert response.status_code == 503 and not response.json()["checks"]["redis"]["ok"]
    assert client.get(reverse("liveness")).status_code == 200  # the web process itself is fine


def test_health_is_503_when_work_waits_too_long(client, quiet_broker):
    alive()
    outbox.enqueue("cnas.tasks.heartbeat")  # published, but no worker takes it
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=11)):
        alive()
        response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["outbox"]["oldest_waiting_seconds"] >= 600


def test_finished_work_and_old_keys_are_purged():
    outbox.enqueue("cnas.tasks.heartbeat")  # eager: done at once
    waiting = OutboxItem.objects.create(task="cnas.tasks.heartbeat")
    IdempotencyKey.objects.create(key="0" * 32, scope="test")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=31)):
        assert tasks.purge_finished_work() == 2
    assert list(OutboxItem.objects.all()) == [waiting]  # unfinished work is never purged


def test_work_older_than_the_outbox_is_found_in_the_database(tenant_a, quiet_broker):
    """Imports left pending and decisions without their letter by the portal before the outbox
    (their work was lost with Redis): the sweeps of a worker's start and of beat put them back."""
    from adhesions import services as adhesion_services
    from adhesions.models import RosterImport
    from tests.adhesions.test_roster_import import csv_file

    record = adhesion_services.create_roster_import(
        actor=tenant_a.correspondent, adherent=tenant_a.employer, is_complete=False,
        uploaded=csv_file("N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;"))
    demande = granted(tenant_a.agent, prestation(code="aide", name="Aide exceptionnelle"))
    OutboxItem.objects.all().delete()  # as they were before this release: no trace of their work
    app.conf.task_always_eager = True
    from adhesions.tasks import _resume_after_start
    from prestations.tasks import _letters_after_start

    _resume_after_start()
    _letters_after_start()
    record.refresh_from_db()
    demande.refresh_from_db()
    assert record.status == RosterImport.Status.READY and demande.decision_pdf
    assert OutboxItem.objects.filter(completed_at__isnull=False).count() == 2
    _resume_after_start()
    _letters_after_start()
    assert OutboxItem.objects.count() == 2  # nothing twice
