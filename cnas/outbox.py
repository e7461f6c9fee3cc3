"""The transactional outbox: asynchronous work is a row written in the transaction of the change
that causes it, and only then handed to Celery. A broker that is down delays the work, never loses
it and never turns a committed action into an error page.

- ``enqueue("adhesions.tasks.check_roster_import", import_id=12)`` writes the row; after the commit
  it is published at once if the broker answers within a second, else left to the relay.
- ``relay()`` (beat every 30 seconds, every worker when it starts) publishes what is waiting, with
  a growing delay after each failure, and what was published but neither finished nor running.
- ``run(item_id)`` (the one Celery task, ``cnas.tasks.run_outbox_item``) runs the named task's
  function under an advisory lock held by the worker's database session: a second copy of the
  message finds the lock (or the completion) and does nothing; a worker killed with SIGKILL loses
  its connection, hence its lock, and the next relay runs the work again. ``TryLater`` (a locked
  row, say) or any error schedules another attempt; after ``MAX_ATTEMPTS`` the item is abandoned
  and shows on /sante/ and in the admin.
"""

import datetime
import importlib
import logging
import time
import traceback

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from cnas.models import OutboxItem

log = logging.getLogger(__name__)
LOCK_NAMESPACE = 4300
MAX_ATTEMPTS = 12
REPUBLISH_AFTER = datetime.timedelta(minutes=5)


class TryLater(Exception):
    """Raised by a task that met a locked row: the work is attempted again shortly."""

    def __init__(self, seconds: int = 10):
        super().__init__(f"try again in {seconds} s")
        self.seconds = seconds


def enqueue(task: str, /, *, dedupe_key: str = "", **kwargs) -> OutboxItem | None:
    """Record ``task`` (a Celery task name) with its keyword arguments in the current transaction.
    With a ``dedupe_key``, work already waiting under that key is not recorded twice."""
    item = OutboxItem(task=task, kwargs=kwargs, dedupe_key=dedupe_key)
    if dedupe_key:
        try:
            with transaction.atomic():
                item.save()
        except IntegrityError:  # the same work is already waiting: asked again, it is due now
            item = OutboxItem.objects.filter(dedupe_key=dedupe_key, completed_at__isnull=True,
                                             failed_at__isnull=True).first()
            if item is None:
                return None
            if item.started_at is None:
                OutboxItem.objects.filter(pk=item.pk).update(next_attempt_at=timezone.now(), published_at=None)
    else:
        item.save()
    transaction.on_commit(lambda: publish([item.pk]))
    return item


def ensure(task: str, /, *, dedupe_key: str, **kwargs) -> OutboxItem | None:
    """For the sweeps that find unfinished work in the database (rows older than the outbox, say):
    record it unless some item of that key exists, waiting, done or abandoned (staff relaunch those)."""
    if OutboxItem.objects.filter(dedupe_key=dedupe_key).exists():
        return None
    return enqueue(task, dedupe_key=dedupe_key, **kwargs)


def _backoff(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=min(3600, 5 * 2 ** max(0, attempts - 1)))


class _Breaker:
    """After a broker error, requests stop trying to publish for a while (each try can cost the
    broker's timeout): the relay, in the worker and beat, keeps trying every 30 seconds."""

    pause = 30.0
    down_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self.down_until

    def trip(self) -> None:
        self.down_until = time.monotonic() + self.pause

    def reset(self) -> None:
        self.down_until = 0.0


breaker = _Breaker()


def publish(ids: list[int], *, force: bool = False) -> int:
    """Hand these items to Celery now; on a broker error, leave them for the relay (no exception:
    this runs after a commit, in the request that made it). ``force``: try even if the broker
    failed a moment ago (the relay)."""
    from cnas.tasks import run_outbox_item

    if breaker.is_open() and not force:
        return 0
    sent = 0
    for item_id in ids:
        try:
            run_outbox_item.apply_async(args=[item_id], ignore_result=True,
                                        task_id=f"outbox-{item_id}-{timezone.now().timestamp()}")
        except Exception as exc:
            breaker.trip()
            log.warning("outbox %s not published (%s): the relay will retry", item_id, exc)
            OutboxItem.objects.filter(pk=item_id, published_at__isnull=True).update(
                last_error=f"publication : {exc}"[:2000])
            return sent
        breaker.reset()
        OutboxItem.objects.filter(pk=item_id, completed_at__isnull=True).update(published_at=timezone.now())
        sent += 1
    return sent


def _try_lock(item_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, item_id])
        return cursor.fetchone()[0]


def _unlock(item_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, item_id])


def is_running(item_id: int) -> bool:
    """Some worker holds the item's lock right now."""
    if not _try_lock(item_id):
        return True
    _unlock(item_id)
    return False


def relay(*, republish_after: datetime.timedelta | None = REPUBLISH_AFTER, limit: int = 1000) -> int:
    """Publish waiting items, and those published long ago that are neither done nor running."""
    now = timezone.now()
    pending = OutboxItem.objects.filter(completed_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=now)
    waiting = list(pending.filter(published_at__isnull=True).order_by("next_attempt_at", "id")
                   .values_list("id", flat=True)[:limit])
    stale = []
    if republish_after is not None:
        stale = [pk for pk in pending.filter(published_at__lte=now - republish_after).order_by("id")
                 .values_list("id", flat=True)[:limit] if not is_running(pk)]
    return publish(waiting + stale, force=True)


def run(item_id: int) -> str:
    """Worker side: run the item once (see the module's docstring)."""
    from celery import current_app

    if not _try_lock(item_id):
        return "running elsewhere"
    try:
        item = OutboxItem.objects.filter(pk=item_id).first()
        if item is None or item.completed_at or item.failed_at:
            return "nothing to do"
        OutboxItem.objects.filter(pk=item_id).update(started_at=timezone.now(), attempts=item.attempts + 1)
        try:
            importlib.import_module(item.task.rsplit(".", 1)[0])  # the task's module, registered on import
            current_app.tasks[item.task].run(**item.kwargs)
        except TryLater as later:
            OutboxItem.objects.filter(pk=item_id).update(
                published_at=None, started_at=None, last_error=str(later),
                next_attempt_at=timezone.now() + datetime.timedelta(seconds=later.seconds))
            return "later"
        except Exception as exc:
            attempts = item.attempts + 1
            log.exception("outbox %s (%s) failed, attempt %s", item_id, item.task, attempts)
            OutboxItem.objects.filter(pk=item_id).update(
                published_at=None, started_at=None, last_error="".join(traceback.format_exception(exc))[-4000:],
                next_attempt_at=timezone.now() + _backoff(attempts),
                failed_at=timezone.now() if attempts >= MAX_ATTEMPTS else None)
            return "failed"
        OutboxItem.objects.filter(pk=item_id).update(completed_at=timezone.now(), last_error="")
        return "done"
    finally:
        _unlock(item_id)


@transaction.atomic
def retry(*, actor, item_ids: list[int]) -> int:
    """Staff start abandoned items again (after fixing what made them fail): from their first try."""
    from cnas import audit

    items = list(OutboxItem.objects.select_for_update().filter(pk__in=item_ids, failed_at__isnull=False,
                                                               completed_at__isnull=True))
    for item in items:
        OutboxItem.objects.filter(pk=item.pk).update(failed_at=None, attempts=0, published_at=None, started_at=None,
                                                     next_attempt_at=timezone.now())
        audit.record(actor=actor, action="outbox.retry", target=item, changes={"tâche": item.task})
    ids = [item.pk for item in items]
    transaction.on_commit(lambda: publish(ids))
    return len(ids)


def oldest_waiting_age() -> datetime.timedelta | None:
    oldest = (OutboxItem.objects.filter(completed_at__isnull=True, failed_at__isnull=True)
              .order_by("created_at").values_list("created_at", flat=True).first())
    return timezone.now() - oldest if oldest else None
