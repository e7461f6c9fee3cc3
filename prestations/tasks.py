"""Thin tasks: ids in, services do the work; safe to run twice."""

import datetime

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.core import mail
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from prestations import services


@shared_task(acks_late=True)
def render_decision(demande_id: int) -> None:
    services.render_decision(demande_id=demande_id)


@shared_task
def refresh_indicators(region_id: int | None = None, every_region: bool = True) -> int:
    """Beat, every ten minutes (and when staff ask): the dashboard's figures of every scope."""
    from prestations import indicators

    return indicators.refresh(region_id=region_id, every_region=every_region)


@shared_task
def resume_missing_letters() -> int:
    return services.resume_missing_letters()


@worker_ready.connect
def _letters_after_start(sender=None, **kwargs):
    """A worker that (re)starts makes sure every decision has its letter on the way."""
    from django.db import close_old_connections

    try:
        services.resume_missing_letters()
    finally:
        close_old_connections()


@shared_task
def send_instruction_digest() -> int:
    """Beat, daily: each instructor gets the list of requests of his region that waited
    longer than their prestation's limit."""
    from accounts.models import StaffProfile
    from prestations.models import Demande

    now = timezone.now()
    late = (Demande.objects.filter(status__in=Demande.OPEN, submitted_at__isnull=False)
            .select_related("prestation", "agent", "region")
            .annotate(limit=F("prestation__instruction_limit_days")))
    late = [d for d in late if d.submitted_at + datetime.timedelta(days=d.limit) < now]
    sent = 0
    for profile in StaffProfile.objects.select_related("user").filter(user__is_active=True, user__is_staff=True):
        mine = [d for d in late if profile.region_id is None or d.region_id == profile.region_id]
        if not mine:
            continue
        context = {"demandes": mine, "now": now, "portal": settings.PORTAL_NAME}
        mail.send_mail(render_to_string("prestations/email/digest_subject.txt", context).strip(),
                       render_to_string("prestations/email/digest_body.txt", context), None, [profile.user.email])
        sent += 1
    return sent
