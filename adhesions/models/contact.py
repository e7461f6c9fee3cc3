"""What an agent, a correspondent or a COS administrator writes to his regional delegation from the
contact page: kept, and e-mailed to the delegation through the outbox (adhesions.services.contact)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ContactMessage(models.Model):
    MAX_BODY = 5000

    class Subject(models.TextChoices):
        DEMANDE = "demande", _("Une demande de prestation")
        ADHESION = "adhesion", _("Mon adhésion / ma collectivité")
        ACCOUNT = "compte", _("Mon compte")
        OTHER = "autre", _("Autre")

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("expéditeur"), null=True,
                               on_delete=models.SET_NULL, related_name="contact_messages")
    # as they were when the message was sent: the delegation answers this address
    sender_name = models.CharField(_("nom de l'expéditeur"), max_length=300)
    sender_email = models.EmailField(_("e-mail de l'expéditeur"))
    region = models.ForeignKey("adhesions.Region", verbose_name=_("délégation régionale"), on_delete=models.PROTECT,
                               related_name="contact_messages")
    sent_to = models.EmailField(_("envoyé à"))
    subject = models.CharField(_("objet"), max_length=16, choices=Subject.choices)
    demande_number = models.CharField(_("numéro de demande"), max_length=12, blank=True)
    body = models.TextField(_("message"), max_length=MAX_BODY)
    created_at = models.DateTimeField(_("envoyé le"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("message de contact")
        verbose_name_plural = _("messages de contact")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["sender", "created_at"], name="contact_sender_recent_idx"),
                   models.Index(fields=["region", "-created_at"], name="contact_region_idx")]

    def __str__(self) -> str:
        sent = timezone.localtime(self.created_at)
        return f"{self.get_subject_display()} — {self.sender_name} ({sent:%d/%m/%Y %H:%M})"
