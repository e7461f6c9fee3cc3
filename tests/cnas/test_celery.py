"""A task round-trip through a real Celery worker on the real Redis broker."""

import pytest
from django.core import mail

from cnas import tasks
from cnas.celery import app


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_send_email_task_round_trip_through_the_worker(real_worker):
    assert app.conf.broker_url.startswith("redis://")
    result = tasks.send_email.delay(subject="Essai", body="Bonjour", to=["agent@exemple.test"])
    assert result.get(timeout=20) == 1
    assert result.status == "SUCCESS"
    # The worker thread shares this process, and so the locmem outbox.
    assert [m.subject for m in mail.outbox] == ["Essai"]


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_periodic_session_cleanup_runs_in_the_worker(real_worker):
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    expired = timezone.now() - timezone.timedelta(days=1)
    Session.objects.create(session_key="x" * 32, session_data="", expire_date=expired)
    tasks.clear_expired_sessions.delay().get(timeout=20)
    assert not Session.objects.filter(session_key="x" * 32).exists()


def test_beat_schedules_the_session_cleanup():
    from django.conf import settings

    entries = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "cnas.tasks.clear_expired_sessions" in entries
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
