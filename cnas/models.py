"""The audit trail: who did what to which object, when, and why."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cnas.private_files import private_storage, private_upload_path


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


class OutboxItem(models.Model):
    """A piece of asynchronous work (an e-mail, a PDF, an import's check…), written in the same
    transaction as the change that causes it, then handed to Celery by the relay. It is done once:
    the worker that runs it holds a PostgreSQL advisory lock on it (released by the database if the
    worker dies), and marks it completed in the end."""

    task = models.CharField(_("tâche"), max_length=120)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True)
    dedupe_key = models.CharField(_("clé d'unicité"), max_length=200, blank=True,
                                  help_text=_("Deux travaux en attente de même clé n'en font qu'un."))
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    next_attempt_at = models.DateTimeField(_("prochain essai"), default=timezone.now)
    published_at = models.DateTimeField(_("confié à Celery le"), null=True, blank=True)
    started_at = models.DateTimeField(_("commencé le"), null=True, blank=True)
    completed_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    failed_at = models.DateTimeField(_("abandonné le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("essais"), default=0)
    last_error = models.TextField(_("dernière erreur"), blank=True)

    class Meta:
        verbose_name = _("travail asynchrone")
        verbose_name_plural = _("travaux asynchrones (outbox)")
        ordering = ["-created_at", "-id"]
        permissions = [("retry_outboxitem", _("Peut relancer un travail asynchrone abandonné"))]
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], name="outbox_pending_dedupe",
                                    condition=models.Q(completed_at__isnull=True, failed_at__isnull=True)
                                    & ~models.Q(dedupe_key="")),
        ]
        indexes = [models.Index(fields=["next_attempt_at"], name="outbox_pending_idx",
                                condition=models.Q(completed_at__isnull=True, failed_at__isnull=True))]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk}"

    @property
    def state(self) -> str:
        if self.completed_at:
            return _("terminé")
        if self.failed_at:
            return _("abandonné")
        return _("en cours") if self.started_at else _("en attente")


class Heartbeat(models.Model):
    """The last sign of life of a process (the worker, beat), read by /sante/."""

    name = models.CharField(_("processus"), max_length=32, unique=True)
    at = models.DateTimeField(_("dernier signe de vie"))

    class Meta:
        verbose_name = _("signe de vie")
        verbose_name_plural = _("signes de vie")

    def __str__(self) -> str:
        return f"{self.name} {self.at:%d/%m/%Y %H:%M:%S}"


class IdempotencyKey(models.Model):
    """The key a form carries (a hidden field drawn when the page is shown): the same key posted
    twice — a double click, a page sent again — makes one thing, the first one."""

    key = models.UUIDField(_("clé"), unique=True)
    scope = models.CharField(_("nature"), max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"), null=True, blank=True,
                             on_delete=models.CASCADE, related_name="+")
    content_type = models.ForeignKey(ContentType, verbose_name=_("nature de l'objet créé"), null=True, blank=True,
                                     on_delete=models.CASCADE)
    object_id = models.CharField(_("objet créé"), max_length=64, blank=True)
    target = GenericForeignKey("content_type", "object_id")
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("clé d'envoi unique")
        verbose_name_plural = _("clés d'envoi unique")

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"



def upload_to_exports(instance, filename: str) -> str:
    return private_upload_path("exports", filename)


class ExportJob(models.Model):
    """An admin list exported with its filters by the worker, downloadable by its author only."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("prêt")
        FAILED = "failed", _("échec")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auteur"), on_delete=models.CASCADE,
                               related_name="exports")
    model = models.CharField(_("liste"), max_length=100)
    title = models.CharField(_("intitulé"), max_length=200)
    query = models.CharField(_("filtres"), max_length=2000, blank=True)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.CSV)
    status = models.CharField(_("état"), max_length=8, choices=Status.choices, default=Status.PENDING)
    total = models.PositiveIntegerField(_("lignes à écrire"), default=0)
    written = models.PositiveIntegerField(_("lignes écrites"), default=0)
    file = models.FileField(_("fichier"), storage=private_storage, upload_to=upload_to_exports, max_length=255,
                            blank=True)
    failure = models.TextField(_("erreur"), blank=True)
    created_at = models.DateTimeField(_("demandé le"), auto_now_add=True)
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("mes exports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_format_display()}, {self.created_at:%d/%m/%Y %H:%M})"

    @property
    def progress(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, int(100 * self.written / self.total)) if self.total else 0
