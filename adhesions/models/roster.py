"""The roster (employments), the coverage derived from it, imports, invitations and payroll declarations."""

import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from adhesions.models.structures import Adherent
from cnas.history import tracked
from cnas.private_files import private_storage, private_upload_path


class EmploymentQuerySet(models.QuerySet):
    def open(self) -> "EmploymentQuerySet":
        return self.filter(end_date__isnull=True)

    def on(self, day: datetime.date) -> "EmploymentQuerySet":
        return self.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))


SORT_COLLATION = "fr-x-icu"  # French order (Élodie after Edmond, not after Zoé), from PostgreSQL's ICU


@tracked(exclude=("sort_name",))
class Employment(models.Model):
    """A line of an employer's roster: this agent works (or worked) there."""

    class EndReason(models.TextChoices):
        TRANSFER = "transfer", _("mutation")
        RETIREMENT = "retirement", _("départ à la retraite")
        RESIGNATION = "resignation", _("démission")
        DEATH = "death", _("décès")
        END_OF_CONTRACT = "end_of_contract", _("fin de contrat")
        OTHER = "other", _("autre motif (absent d'un fichier complet)")

    agent = models.ForeignKey("accounts.Agent", verbose_name=_("agent"), on_delete=models.PROTECT,
                              related_name="employments")
    employer = models.ForeignKey(Adherent, verbose_name=_("employeur"), on_delete=models.PROTECT,
                                 related_name="employments")
    employee_number = models.CharField(_("matricule"), max_length=32)
    start_date = models.DateField(_("date d'entrée"))
    end_date = models.DateField(_("date de sortie"), null=True, blank=True)
    end_reason = models.CharField(_("motif de sortie"), max_length=16, choices=EndReason.choices,
                                  blank=True)
    # The agent's "last first" name in French order, kept by PostgreSQL triggers (on this row's insert
    # and on the agent's renaming, migration 0013): with the indexes led by the employer, a page of a
    # roster of any size reads 50 lines in name order, never the national index of names.
    sort_name = models.CharField(_("nom pour le tri"), max_length=302, db_collation=SORT_COLLATION,
                                 editable=False, default="")

    objects = EmploymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("emploi")
        verbose_name_plural = _("emplois (effectifs)")
        permissions = [("correct_employment", _("Corriger l'effectif d'un adhérent"))]
        ordering = ["employer", "employee_number"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "employer"], condition=Q(end_date__isnull=True),
                                    name="employment_one_open_per_agent_employer"),
            models.UniqueConstraint(fields=["employer", "employee_number"],
                                    condition=Q(end_date__isnull=True),
                                    name="employment_open_number_unique"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="employment_dates_ordered",
            ),
            models.CheckConstraint(
                condition=(Q(end_date__isnull=True) & Q(end_reason=""))
                | (Q(end_date__isnull=False) & ~Q(end_reason="")),
                name="employment_end_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["agent"], name="employment_agent_idx"),
            # the roster's pages and sort orders, led by the employer
            models.Index(fields=["employer", "sort_name", "id"], name="employment_roster_name_idx"),
            models.Index(fields=["employer", "employee_number", "id"], name="employment_roster_number_idx"),
            models.Index(fields=["employer", "start_date", "id"], name="employment_roster_start_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.employer} — {self.employee_number}"


class CoverageQuerySet(models.QuerySet):
    def on(self, day: datetime.date) -> "CoverageQuerySet":
        return self.filter(period__contains=day)


class Coverage(models.Model):
    """Which adherent entitles which agent, from when to when.

    The period is a half-open date range ``[start, end)``; an open end means
    "until further notice". Two periods of the same agent and adherent never
    overlap (a PostgreSQL exclusion constraint)."""

    class Source(models.TextChoices):
        EMPLOYMENT = "employment", _("emploi chez l'adhérent")
        RETIREMENT = "retirement", _("retraité de l'adhérent")
        COS_MEMBERSHIP = "cos_membership", _("membre du COS")
        CONVENTION = "convention", _("convention tripartite")
        EXTENSION = "extension", _("maintien des droits après le départ")

    # What the contribution counts: the extension after a departure is free for the employer.
    COUNTED = (Source.EMPLOYMENT, Source.RETIREMENT, Source.COS_MEMBERSHIP)

    agent = models.ForeignKey("accounts.Agent", verbose_name=_("agent"), on_delete=models.PROTECT,
                              related_name="coverages")
    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.PROTECT,
                                 related_name="coverages")
    period = DateRangeField(_("période"))
    source = models.CharField(_("origine"), max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = CoverageQuerySet.as_manager()

    class Meta:
        verbose_name = _("couverture")
        verbose_name_plural = _("couvertures")
        ordering = ["agent", "period"]
        constraints = [
            ExclusionConstraint(
                name="coverage_no_overlap",
                expressions=[
                    ("agent", RangeOperators.EQUAL),
                    ("adherent", RangeOperators.EQUAL),
                    ("period", RangeOperators.OVERLAPS),
                ],
            ),
            models.CheckConstraint(condition=Q(period__isempty=False), name="coverage_period_not_empty"),
            models.CheckConstraint(condition=Q(period__startswith__isnull=False),
                                   name="coverage_period_has_start"),
        ]
        indexes = [models.Index(fields=["adherent"], name="coverage_adherent_idx")]

    def __str__(self) -> str:
        return f"{self.agent} ← {self.adherent}"

    @property
    def start_date(self) -> datetime.date:
        return self.period.lower

    @property
    def end_date(self) -> datetime.date | None:
        """The last covered day, or None when open."""
        if self.period.upper is None:
            return None
        return self.period.upper - datetime.timedelta(days=1)


class BasisPeriod(models.Model):
    """What makes an agent count in an adherent's contribution, whatever its adhesion: his
    employment there, his retirement from there, his membership of the COS (with its fee
    rule). Derived with the coverage by the same functions, but not cut by the adhesion's
    dates: the contribution is the year's figure for the whole year, times the months of
    adhesion over 12, so that pro-rating happens once. Half-open ``[start, end)`` periods."""

    agent = models.ForeignKey("accounts.Agent", verbose_name=_("agent"), on_delete=models.PROTECT,
                              related_name="basis_periods")
    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.PROTECT,
                                 related_name="basis_periods")
    period = DateRangeField(_("période"))
    source = models.CharField(_("origine"), max_length=16, choices=Coverage.Source.choices)

    class Meta:
        verbose_name = _("période comptée dans la cotisation")
        verbose_name_plural = _("périodes comptées dans la cotisation")
        ordering = ["agent", "period"]
        constraints = [
            ExclusionConstraint(
                name="basis_no_overlap",
                expressions=[("agent", RangeOperators.EQUAL), ("adherent", RangeOperators.EQUAL),
                             ("period", RangeOperators.OVERLAPS)],
            ),
            models.CheckConstraint(condition=Q(period__isempty=False), name="basis_period_not_empty"),
            models.CheckConstraint(condition=Q(source__in=["employment", "retirement", "cos_membership"]),
                                   name="basis_counted_source"),
        ]
        indexes = [models.Index(fields=["adherent"], name="basis_adherent_idx")]

    def __str__(self) -> str:
        return f"{self.agent} — {self.adherent}"


def upload_to_rosters(instance, filename: str) -> str:
    return private_upload_path("rosters", filename)


class RosterImport(models.Model):
    """One upload of a roster spreadsheet: checked first, applied only on confirmation."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en attente de vérification")
        CHECKING = "checking", _("vérification en cours")
        READY = "ready", _("vérifié, à confirmer")
        INVALID = "invalid", _("erreurs à corriger")
        APPLYING = "applying", _("application en cours")
        APPLIED = "applied", _("appliqué")
        FAILED = "failed", _("échec")
        CANCELLED = "cancelled", _("annulé")

    class Kind(models.TextChoices):
        ROSTER = "roster", _("effectif d'un employeur")
        COS_MEMBERS = "cos_members", _("membres d'un COS")

    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.PROTECT,
                                 related_name="roster_imports")
    kind = models.CharField(_("nature"), max_length=16, choices=Kind.choices, default=Kind.ROSTER)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("déposé par"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("déposé le"), auto_now_add=True)
    file = models.FileField(_("fichier"), storage=private_storage, upload_to=upload_to_rosters, max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("taille (octets)"))
    is_complete = models.BooleanField(
        _("fichier complet"), default=False,
        help_text=_("Les agents en poste absents du fichier seront sortis de l'effectif."),
    )
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.PENDING)
    line_count = models.PositiveIntegerField(_("lignes"), default=0)
    created_count = models.PositiveIntegerField(_("créations"), default=0)
    updated_count = models.PositiveIntegerField(_("mises à jour"), default=0)
    closed_count = models.PositiveIntegerField(_("sorties"), default=0)
    unchanged_count = models.PositiveIntegerField(_("inchangés"), default=0)
    error_count = models.PositiveIntegerField(_("erreurs"), default=0)
    errors = models.JSONField(_("erreurs"), default=list, blank=True)
    preview = models.JSONField(_("aperçu"), default=dict, blank=True)
    failure = models.TextField(_("cause de l'échec"), blank=True)
    applied_at = models.DateTimeField(_("appliqué le"), null=True, blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("appliqué par"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("import d'effectif")
        verbose_name_plural = _("imports d'effectif")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.adherent}, {self.created_at:%d/%m/%Y %H:%M})"

    @property
    def progress_key(self) -> str:
        return f"roster-import:{self.pk}:progress"

    @property
    def is_running(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.CHECKING, self.Status.APPLYING}


class Invitation(models.Model):
    """An invitation by e-mail: an agent to open his account, or a co-correspondent."""

    class Kind(models.TextChoices):
        AGENT = "agent", _("agent")
        CORRESPONDENT = "correspondent", _("gestionnaire (correspondant ou administrateur du COS)")

    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.CASCADE,
                                 related_name="invitations")
    kind = models.CharField(_("nature"), max_length=16, choices=Kind.choices)
    email = models.EmailField(_("e-mail"))
    agent = models.ForeignKey("accounts.Agent", verbose_name=_("agent"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="invitations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("invité par"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("acceptée le"), null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acceptée par"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="agent") & Q(agent__isnull=False))
                | (Q(kind="correspondent") & Q(agent__isnull=True)),
                name="invitation_agent_iff_kind_agent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.email} — {self.adherent}"


class PayrollDeclarationQuerySet(models.QuerySet):
    def current(self) -> "PayrollDeclarationQuerySet":
        """The latest declaration of each adherent and year (a correction replaces the one before)."""
        return self.order_by("adherent_id", "-year", "-declared_at", "-id").distinct("adherent_id", "year")


@tracked()
class PayrollDeclaration(models.Model):
    """The yearly declaration of gross payroll and headcounts; never edited, superseded."""

    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.PROTECT,
                                 related_name="payroll_declarations")
    year = models.PositiveSmallIntegerField(_("année des salaires"))
    gross_payroll = models.DecimalField(_("masse salariale brute (€)"), max_digits=12, decimal_places=2)
    working_headcount = models.PositiveIntegerField(_("agents en activité"))
    retired_headcount = models.PositiveIntegerField(_("retraités"))
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("déclarée par"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    declared_at = models.DateTimeField(_("déclarée le"), auto_now_add=True)
    is_correction = models.BooleanField(_("correction par l'organisme"), default=False)
    reason = models.TextField(_("motif de la correction"), blank=True)

    objects = PayrollDeclarationQuerySet.as_manager()

    class Meta:
        verbose_name = _("déclaration de masse salariale")
        verbose_name_plural = _("déclarations de masse salariale")
        ordering = ["-year", "-declared_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(gross_payroll__gte=0), name="payroll_non_negative"),
            models.CheckConstraint(condition=Q(year__gte=2000) & Q(year__lte=2100), name="payroll_year_range"),
            models.CheckConstraint(condition=Q(is_correction=False) | ~Q(reason=""),
                                   name="payroll_correction_has_reason"),
        ]
        indexes = [models.Index(fields=["adherent", "year", "-declared_at"], name="payroll_current_idx")]

    def __str__(self) -> str:
        return f"{self.adherent} — {self.year}"
