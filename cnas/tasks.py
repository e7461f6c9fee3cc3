"""Project-wide tasks: thin, idempotent, given ids and strings, never objects. Every piece of work
caused by a change goes through the outbox (cnas.outbox): its rows are published to
``run_outbox_item``, which runs the named task's function exactly once."""

import datetime
import logging
import threading

from celery import shared_task
from celery.signals import beat_init, worker_ready
from django.core import mail
from django.core.management import call_command
from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30


@shared_task(acks_late=True, ignore_result=True)
def run_outbox_item(item_id: int) -> str:
    from cnas import outbox

    return outbox.run(item_id)


@shared_task
def relay_outbox() -> int:
    """Beat, every 30 seconds: what the broker did not take yet, and what was lost on the way."""
    from cnas import outbox

    return outbox.relay()


@shared_task
def heartbeat() -> None:
    """Beat, every 30 seconds, run by a worker: the worker is alive (read by /sante/)."""
    beat("worker")


def beat(name: str) -> None:
    from cnas.models import Heartbeat

    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


@shared_task
def send_email(*, subject: str, body: str, to: list[str], html_body: str = "",
               from_email: str | None = None, reply_to: list[str] | None = None) -> int:
    """Send one e-mail; given strings only, never objects."""
    message = mail.EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to,
                                          reply_to=reply_to or None)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    return message.send()


@shared_task
def clear_expired_sessions() -> None:
    """Periodic (Celery beat): drop expired sessions from the database."""
    call_command("clearsessions")


@shared_task(acks_late=True)
def run_export(job_id: int) -> str:
    from cnas import background_exports

    return background_exports.run_export(job_id=job_id).status


@shared_task
def purge_finished_work(*, outbox_days: int = 30, key_days: int = 2) -> int:
    """Daily (beat): outbox items finished a month ago, and idempotency keys two days old (a page
    posted again after two days makes a new thing, as its user would expect)."""
    from cnas.models import IdempotencyKey, OutboxItem

    now = timezone.now()
    done, _ = OutboxItem.objects.filter(completed_at__lt=now - datetime.timedelta(days=outbox_days)).delete()
    keys, _ = IdempotencyKey.objects.filter(created_at__lt=now - datetime.timedelta(days=key_days)).delete()
    return done + keys


@worker_ready.connect
def _relay_after_start(sender=None, **kwargs):
    """A worker that (re)starts takes up every unfinished piece of work nobody is running — a
    worker killed with SIGKILL lost its database session, hence its locks."""
    from cnas import outbox

    try:
        count = outbox.relay(republish_after=datetime.timedelta(0))
        log.info("worker ready: %s outbox item(s) published", count)
    finally:
        close_old_connections()


@beat_init.connect
def _beat_heartbeat(sender=None, **kwargs):
    """In the beat process: a sign of life every 30 seconds, from a thread of its own."""

    def loop():
        stop = threading.Event()
        while not stop.wait(HEARTBEAT_SECONDS if _beat_heartbeat.started else 0):
            _beat_heartbeat.started = True
            try:
                beat("beat")
            except Exception:  # a database hiccup: next time
                log.exception("beat heartbeat not written")
            finally:
                close_old_connections()

    _beat_heartbeat.started = False
    threading.Thread(target=loop, name="beat-heartbeat", daemon=True).start()
