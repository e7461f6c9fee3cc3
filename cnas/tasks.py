"""Project-wide tasks: thin, idempotent, started after the commit."""

from celery import shared_task
from django.core import mail
from django.core.management import call_command


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(*, subject: str, body: str, to: list[str], html_body: str = "",
               from_email: str | None = None) -> int:
    """Send one e-mail; given strings only, never objects."""
    message = mail.EmailMultiAlternatives(subject=subject, body=body, from_email=from_email, to=to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    return message.send()


@shared_task
def clear_expired_sessions() -> None:
    """Periodic (Celery beat): drop expired sessions from the database."""
    call_command("clearsessions")
