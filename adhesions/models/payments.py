"""Payments of contribution calls, imported bank statements and reminders."""


from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from adhesions.models.contributions import MONEY, ContributionCall
from cnas.history import tracked
from cnas.private_files import private_storage, private_upload_path


@tracked()
class Payment(models.Model):
    """Money received for a call (or, negative, a refund of a credit)."""

    class Means(models.TextChoices):
        TRANSFER = "transfer", _("virement")
        CHEQUE = "cheque", _("chèque")
        MANDATE = "mandate", _("mandat administratif")
        OTHER = "other", _("autre")

    call = models.ForeignKey(ContributionCall, verbose_name=_("appel"), on_delete=models.PROTECT,
                             related_name="payments")
    amount = models.DecimalField(_("montant (€)"), **MONEY)
    paid_on = models.DateField(_("date de valeur"))
    means = models.CharField(_("moyen"), max_length=16, choices=Means.choices, default=Means.TRANSFER)
    bank_reference = models.CharField(_("référence bancaire"), max_length=140, blank=True)
    statement_line = models.CharField(_("ligne de relevé"), max_length=200, null=True, blank=True, unique=True,
                                      help_text=_("Identifiant de la ligne du relevé : une ligne n'est jamais "
                                                  "comptée deux fois."))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("enregistré par"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("enregistré le"), auto_now_add=True)

    class Meta:
        verbose_name = _("paiement")
        verbose_name_plural = _("paiements")
        ordering = ["-paid_on", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="payment_not_zero")]

    def __str__(self) -> str:
        return f"{self.amount} € — {self.call.reference}"


def upload_to_statements(instance, filename: str) -> str:
    return private_upload_path("statements", filename)


class BankStatement(models.Model):
    """An imported bank statement (CSV or CAMT.053) and what it matched."""

    file = models.FileField(_("fichier"), storage=private_storage, upload_to=upload_to_statements, max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    format = models.CharField(_("format"), max_length=8)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("déposé par"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    line_count = models.PositiveIntegerField(_("lignes"), default=0)
    matched_count = models.PositiveIntegerField(_("rapprochées"), default=0)
    already_count = models.PositiveIntegerField(_("déjà enregistrées"), default=0)
    unmatched = models.JSONField(_("non rapprochées"), default=list, blank=True)

    class Meta:
        verbose_name = _("relevé bancaire")
        verbose_name_plural = _("relevés bancaires")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name or f"Relevé {self.pk}"


class Reminder(models.Model):
    """A reminder sent for an unpaid call: once per level, whatever beat does."""

    call = models.ForeignKey(ContributionCall, verbose_name=_("appel"), on_delete=models.CASCADE,
                             related_name="reminders")
    level = models.PositiveSmallIntegerField(_("relance"))  # 1: due + 15 days, 2: due + 30 days
    sent_at = models.DateTimeField(_("envoyée le"), auto_now_add=True)
    balance = models.DecimalField(_("solde relancé (€)"), **MONEY)

    class Meta:
        verbose_name = _("relance")
        verbose_name_plural = _("relances")
        constraints = [models.UniqueConstraint(fields=["call", "level"], name="reminder_once_per_level")]

    def __str__(self) -> str:
        return f"Relance {self.level} — {self.call.reference}"
