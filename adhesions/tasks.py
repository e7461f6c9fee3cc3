"""Thin tasks: ids in, the service does the work; safe to run twice."""

from celery import shared_task

from adhesions import services


@shared_task(acks_late=True)
def check_roster_import(import_id: int) -> str:
    return services.check_roster_import(import_id=import_id).status


@shared_task(acks_late=True)
def apply_roster_import(import_id: int) -> str:
    return services.apply_roster_import(import_id=import_id).status


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_invitations(invitation_ids: list[int]) -> int:
    return services.send_invitations(invitation_ids=invitation_ids)
