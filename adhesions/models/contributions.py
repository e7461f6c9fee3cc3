"""Yearly scales, the campaign and the contribution calls it issues."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from adhesions.models.structures import Adherent
from cnas.history import tracked
from cnas.private_files import private_storage, private_upload_path

MONEY = {"max_digits": 12, "decimal_places": 2}


@tracked()
class ContributionScale(models.Model):
    """How each kind of adherent pays for a year (edited by staff)."""

    class Mode(models.TextChoices):
        PAYROLL = "payroll", _("pourcentage de la masse salariale, avec plancher et plafond par agent")
        PER_AGENT = "per_agent", _("forfait par agent en activité")

    year = models.PositiveSmallIntegerField(_("année"), unique=True)
    employer_mode = models.CharField(_("mode de calcul des employeurs"), max_length=16, choices=Mode.choices,
                                     default=Mode.PAYROLL)
    payroll_rate = models.DecimalField(_("taux (% de la masse salariale)"), max_digits=6, decimal_places=4,
                                       default=Decimal("0.8600"))
    floor_per_agent = models.DecimalField(_("plancher par agent actif (€)"), **MONEY, default=Decimal("0"))
    ceiling_per_agent = models.DecimalField(_("plafond par agent actif (€)"), **MONEY, null=True, blank=True)
    flat_per_agent = models.DecimalField(_("forfait par agent actif (€)"), **MONEY, default=Decimal("0"))
    cos_per_agent = models.DecimalField(_("forfait COS par agent couvert (€)"), **MONEY, default=Decimal("0"))
    retired_flat = models.DecimalField(_("forfait par retraité couvert (€)"), **MONEY, default=Decimal("0"))
    due_date = models.DateField(_("date d'échéance des appels"))
    grace_days = models.PositiveSmallIntegerField(
        _("délai de grâce (jours)"), default=60,
        help_text=_("Au-delà de l'échéance plus ce délai, un solde impayé bloque les nouvelles demandes."))

    class Meta:
        verbose_name = _("barème de cotisation")
        verbose_name_plural = _("barèmes de cotisation")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(payroll_rate__gte=0) & Q(floor_per_agent__gte=0)
                                   & Q(flat_per_agent__gte=0) & Q(cos_per_agent__gte=0) & Q(retired_flat__gte=0),
                                   name="scale_non_negative"),
            models.CheckConstraint(condition=Q(ceiling_per_agent__isnull=True)
                                   | Q(ceiling_per_agent__gte=F("floor_per_agent")),
                                   name="scale_ceiling_above_floor"),
        ]

    def __str__(self) -> str:
        return f"Barème {self.year}"


class Campaign(models.Model):
    """The yearly computation of every call, then the rendering of their PDFs in chunks."""

    class Status(models.TextChoices):
        COMPUTING = "computing", _("calcul en cours")
        RENDERING = "rendering", _("édition des PDF en cours")
        DONE = "done", _("terminée")
        FAILED = "failed", _("terminée avec des lots en échec")

    scale = models.OneToOneField(ContributionScale, verbose_name=_("barème"), on_delete=models.PROTECT,
                                 related_name="campaign")
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.COMPUTING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lancée par"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("lancée le"), auto_now_add=True)
    computed_at = models.DateTimeField(_("calculée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    computed_count = models.PositiveIntegerField(_("appels calculés"), default=0)

    class Meta:
        verbose_name = _("campagne de cotisation")
        verbose_name_plural = _("campagnes de cotisation")
        permissions = [("run_campaign", _("Lancer la campagne de cotisation"))]
        ordering = ["-scale__year"]

    def __str__(self) -> str:
        return f"Campagne {self.scale.year}"

    @property
    def year(self) -> int:
        return self.scale.year


class CampaignChunk(models.Model):
    """A slice of the campaign's calls whose PDFs one task renders; retried alone if it fails."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente")
        RUNNING = "running", _("en cours")
        DONE = "done", _("terminé")
        FAILED = "failed", _("en échec")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campagne"), on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField(_("numéro"))
    first_call_id = models.BigIntegerField(_("premier appel"))
    last_call_id = models.BigIntegerField(_("dernier appel"))
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    error = models.TextField(_("erreur"), blank=True)
    updated_at = models.DateTimeField(_("mis à jour le"), auto_now=True)

    class Meta:
        verbose_name = _("lot d'édition")
        verbose_name_plural = _("lots d'édition")
        ordering = ["campaign", "index"]
        constraints = [models.UniqueConstraint(fields=["campaign", "index"], name="chunk_unique_index")]

    def __str__(self) -> str:
        return f"{self.campaign} — lot {self.index}"


def upload_to_calls(instance, filename: str) -> str:
    return private_upload_path("calls", filename)


class ContributionCallQuerySet(models.QuerySet):
    def with_balance(self):
        from adhesions.models.payments import Payment

        paid = Payment.objects.filter(call=OuterRef("pk")).values("call").annotate(
            total=models.Sum("amount")).values("total")
        return self.annotate(paid=Coalesce(Subquery(paid), Value(Decimal("0")),
                                           output_field=models.DecimalField(**MONEY)),
                             balance=F("amount") - F("paid"))


@tracked(exclude=("pdf", "render_count"))
class ContributionCall(models.Model):
    """What an adherent owes for a year: the initial call, or a regularisation (a credit
    when negative). Once issued, a call never changes."""

    class Kind(models.TextChoices):
        INITIAL = "initial", _("appel de cotisation")
        REGULARISATION = "regularisation", _("régularisation")

    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.PROTECT,
                                 related_name="calls")
    year = models.PositiveSmallIntegerField(_("année"))
    kind = models.CharField(_("nature"), max_length=16, choices=Kind.choices, default=Kind.INITIAL)
    campaign = models.ForeignKey(Campaign, verbose_name=_("campagne"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="calls")
    reference = models.CharField(_("référence de paiement"), max_length=24, unique=True)
    # The figures the amount was computed from, shown on the PDF.
    payroll = models.DecimalField(_("masse salariale retenue (€)"), **MONEY, null=True, blank=True)
    payroll_year = models.PositiveSmallIntegerField(_("année de la masse salariale"), null=True, blank=True)
    working_agents = models.DecimalField(_("agents actifs (équivalent année)"), max_digits=12, decimal_places=4,
                                         default=0)
    retired_agents = models.DecimalField(_("retraités (équivalent année)"), max_digits=12, decimal_places=4,
                                         default=0)
    covered_agents = models.DecimalField(_("agents couverts par le COS (équivalent année)"), max_digits=12,
                                         decimal_places=4, default=0)
    months = models.PositiveSmallIntegerField(_("mois d'adhésion dans l'année"), default=12)
    bound = models.CharField(_("borne appliquée"), max_length=16, blank=True,
                             help_text=_("« plancher », « plafond » ou vide."))
    amount = models.DecimalField(_("montant (€)"), **MONEY)
    details = models.JSONField(_("détail du calcul"), default=dict, blank=True)
    regularises = models.ForeignKey("self", verbose_name=_("régularise"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="regularisations")
    issued_at = models.DateTimeField(_("émis le"), auto_now_add=True)
    due_date = models.DateField(_("échéance"))
    pdf = models.FileField(_("PDF"), storage=private_storage, upload_to=upload_to_calls, max_length=255, blank=True)
    render_count = models.PositiveSmallIntegerField(_("éditions"), default=0)

    objects = ContributionCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("appel de cotisation")
        verbose_name_plural = _("appels de cotisation")
        permissions = [("regularise_contributioncall", _("Émettre une régularisation"))]
        ordering = ["-year", "adherent", "issued_at"]
        constraints = [
            models.UniqueConstraint(fields=["adherent", "year"], condition=Q(kind="initial"),
                                    name="call_one_initial_per_year"),
            models.CheckConstraint(condition=Q(kind="regularisation") | Q(amount__gte=0),
                                   name="call_initial_not_negative"),
            models.CheckConstraint(condition=Q(kind="initial") | Q(regularises__isnull=False),
                                   name="call_regularisation_has_origin"),
        ]
        indexes = [models.Index(fields=["campaign", "id"], name="call_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.reference} — {self.adherent}"
