"""The contact page: a message to the sender's regional delegation, kept and e-mailed to it through
the outbox, in one transaction; at most a few per person and hour."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.models import ContactMessage, Manager
from adhesions.selectors import coverage_on, delegation_of
from cnas import audit, locks, outbox

MAX_PER_HOUR = 5


def sender_name(user) -> str:
    agent = getattr(user, "agent", None)
    if agent is not None:
        return f"{agent.first_name} {agent.last_name.upper()}"
    return user.get_full_name() or user.email


def sender_roles(user) -> list[str]:
    """Who writes, in the delegation's words: "agent de Commune X", "correspondant(e) de Y"."""
    roles = []
    agent = getattr(user, "agent", None)
    if agent is not None:
        coverage = coverage_on(agent=agent)
        roles.append(_("agent de %(name)s") % {"name": coverage.adherent.name} if coverage
                     else _("agent (sans couverture aujourd'hui)"))
    for manager in Manager.objects.filter(user=user).select_related("adherent").order_by("adherent__name"):
        label = (_("correspondant(e) de %(name)s") if manager.role == Manager.Role.CORRESPONDENT
                 else _("administrateur(trice) de %(name)s"))
        roles.append(label % {"name": manager.adherent.name})
    return roles


def _clean(*, subject: str, body: str, demande_number: str) -> tuple[str, str, str]:
    errors = {}
    if subject not in ContactMessage.Subject.values:
        errors["subject"] = _("Choisissez l'objet de votre message dans la liste.")
    body = (body or "").strip()
    if not body:
        errors["body"] = _("Écrivez votre message.")
    elif len(body) > ContactMessage.MAX_BODY:
        errors["body"] = _("Votre message compte %(n)s caractères : %(max)s au plus.") % {
            "n": len(body), "max": ContactMessage.MAX_BODY}
    demande_number = (demande_number or "").strip().removeprefix("n°").strip()
    if demande_number and not (demande_number.isascii() and demande_number.isdigit() and len(demande_number) <= 12):
        errors["demande_number"] = _("Le numéro de demande ne compte que des chiffres (par exemple 1234).")
    if errors:
        raise ValidationError(errors)
    return subject, body, demande_number


@transaction.atomic
def send_contact_message(*, user, subject: str, body: str, demande_number: str = "") -> ContactMessage:
    """Keep the message and e-mail it to the sender's delegation (its reply goes to the sender)."""
    if not getattr(user, "is_authenticated", False):
        raise ValidationError(_("Connectez-vous pour écrire à votre délégation."))
    subject, body, demande_number = _clean(subject=subject, body=body, demande_number=demande_number)
    region = delegation_of(user)
    if region is None:
        raise ValidationError(_("Votre compte n'est rattaché à aucune délégation régionale : écrivez à l'une "
                                "des délégations ci-dessous par courrier ou appelez-la."))
    if not region.email:
        raise ValidationError(_("Votre délégation n'a pas encore d'adresse e-mail : appelez-la ou "
                                "écrivez-lui par courrier."))
    locks.lock("quota", f"contact:user:{user.pk}")  # two messages at once do not both pass the count
    since = timezone.now() - datetime.timedelta(hours=1)
    if ContactMessage.objects.filter(sender=user, created_at__gte=since).count() >= MAX_PER_HOUR:
        raise ValidationError(_("Vous avez déjà envoyé %(n)s messages dans l'heure : réessayez plus tard, ou "
                                "appelez votre délégation.") % {"n": MAX_PER_HOUR}, code="throttled")
    message = ContactMessage.objects.create(
        sender=user, sender_name=sender_name(user), sender_email=user.email, region=region, sent_to=region.email,
        subject=subject, body=body, demande_number=demande_number)
    audit.record(actor=user, action="contact.send", target=message,
                 changes={"délégation": region.code, "objet": subject, "demande": demande_number})
    context = {"message": message, "roles": sender_roles(user), "portal": settings.PORTAL_NAME}
    outbox.enqueue("cnas.tasks.send_email", to=[region.email], reply_to=[user.email],
                   subject=" ".join(render_to_string("adhesions/email/contact_subject.txt", context).split()),
                   body=render_to_string("adhesions/email/contact_body.txt", context))
    return message
