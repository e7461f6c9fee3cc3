"""The audit trail: who did what to which object, when, and why."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntryQuerySet(models.QuerySet):
    def for_object(self, obj: models.Model) -> "AuditEntryQuerySet":
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
            object_id=str(obj.pk),
        )


class AuditEntry(models.Model):
    """One change of state, written by the service that made it, in its transaction."""

    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Vide quand le changement vient du système (tâche, commande)."),
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("type d'objet"))
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64)
    target = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField(_("objet"), max_length=255)
    reason = models.TextField(_("motif"), blank=True)
    changes = models.JSONField(_("détail"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("entrée du journal d'audit")
        verbose_name_plural = _("journal d'audit")
        permissions = [("view_indicators", _("Voir les indicateurs"))]
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y %H:%M} {self.action} {self.object_repr}"
