"""Thin tasks: ids in, the service does the work; safe to run twice."""

import datetime

from celery import shared_task
from celery.signals import worker_ready

from adhesions import services
from cnas import outbox


@shared_task(acks_late=True)
def check_roster_import(import_id: int) -> str:
    return services.check_roster_import(import_id=import_id).status


@shared_task(acks_late=True)
def apply_roster_import(import_id: int) -> str:
    return services.apply_roster_import(import_id=import_id).status


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitations(invitation_ids: list[int]) -> int:
    return services.send_invitations(invitation_ids=invitation_ids)


@shared_task(acks_late=True)
def compute_campaign(campaign_id: int) -> int:
    chunk_ids = services.compute_campaign(campaign_id=campaign_id)
    for chunk_id in chunk_ids:
        outbox.enqueue("adhesions.tasks.render_chunk", chunk_id=chunk_id, dedupe_key=f"render_chunk:{chunk_id}")
    return len(chunk_ids)


@shared_task(acks_late=True)
def render_chunk(chunk_id: int) -> str:
    return services.render_chunk(chunk_id=chunk_id)


@shared_task(acks_late=True)
def render_single_call(call_id: int) -> None:
    services.render_single_call(call_id=call_id)


@shared_task
def resume_unfinished_campaigns(idle_minutes: int | None = None) -> int:
    idle = datetime.timedelta(minutes=idle_minutes) if idle_minutes is not None else None
    return services.resume_unfinished_campaigns(idle_for=idle)


@shared_task
def resume_unfinished_imports() -> int:
    return services.resume_unfinished_imports()


@shared_task
def send_contribution_reminders() -> int:
    return services.send_reminders()


@worker_ready.connect
def _resume_after_start(sender=None, **kwargs):
    """A worker that (re)starts puts unfinished campaigns and imports back on their way (through the
    outbox)."""
    from django.db import close_old_connections

    try:
        services.resume_unfinished_campaigns()
        services.resume_unfinished_imports()
    finally:
        close_old_connections()
