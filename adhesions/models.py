"""Member structures, their adhesion, their staff roster, coverage and managers."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from cnas.private_files import private_storage, private_upload_path
from cnas.validators import validate_french_postcode, validate_siret


class Region(models.Model):
    """A regional delegation of the national body."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("nom"), max_length=150, unique=True)

    class Meta:
        verbose_name = _("délégation régionale")
        verbose_name_plural = _("délégations régionales")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AdherentKind(models.TextChoices):
    COLLECTIVITY = "collectivity", _("collectivité territoriale")
    PUBLIC_BODY = "public_body", _("établissement public")
    COS = "cos", _("COS / amicale du personnel")


class AdherentCategory(models.TextChoices):
    """The legal form, finer than the kind, for display and statistics."""

    COMMUNE = "commune", _("commune")
    EPCI = "epci", _("communauté de communes ou d'agglomération")
    DEPARTEMENT = "departement", _("département")
    REGION = "region", _("région")
    CCAS = "ccas", _("centre communal d'action sociale")
    SYNDICAT = "syndicat", _("syndicat intercommunal")
    OTHER_PUBLIC = "other_public", _("autre établissement public")
    ASSOCIATION = "association", _("association du personnel")


class AdherentQuerySet(models.QuerySet):
    def managed_by(self, user) -> "AdherentQuerySet":
        """The adherents this user manages, whatever the role."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(managers__user=user).distinct()


class Adherent(models.Model):
    """A member structure: an employer (collectivity, public body) or a COS."""

    name = models.CharField(_("nom"), max_length=255)
    kind = models.CharField(_("nature"), max_length=16, choices=AdherentKind.choices)
    category = models.CharField(_("catégorie"), max_length=16, choices=AdherentCategory.choices)
    siret = models.CharField(_("SIRET"), max_length=14, unique=True, validators=[validate_siret])
    region = models.ForeignKey(Region, verbose_name=_("délégation régionale"),
                               on_delete=models.PROTECT, related_name="adherents")
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True,
                                validators=[validate_french_postcode])
    city = models.CharField(_("commune"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail de contact"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)

    objects = AdherentQuerySet.as_manager()

    class Meta:
        verbose_name = _("adhérent")
        verbose_name_plural = _("adhérents")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(siret__regex=r"^\d{14}$"), name="adherent_siret_digits"),
            models.CheckConstraint(
                condition=Q(kind="cos", category="association")
                | (~Q(kind="cos") & ~Q(category="association")),
                name="adherent_kind_matches_category",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_cos(self) -> bool:
        return self.kind == AdherentKind.COS

    def current_adhesion(self, on: datetime.date | None = None) -> "Adhesion | None":
        from django.utils import timezone

        on = on or timezone.localdate()
        return self.adhesions.active_on(on).first()


class AdhesionQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> "AdhesionQuerySet":
        return self.filter(status=Adhesion.Status.ACTIVE, start_date__lte=day).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=day)
        )


class Adhesion(models.Model):
    """One period of membership of an adherent in the national body."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en cours d'instruction")
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspendue")
        ENDED = "ended", _("résiliée")

    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.PROTECT,
                                 related_name="adhesions")
    start_date = models.DateField(_("date d'effet"))
    end_date = models.DateField(_("date de fin"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    covers_retired = models.BooleanField(_("couvre les retraités"), default=False)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = AdhesionQuerySet.as_manager()

    class Meta:
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="adhesion_dates_ordered",
            ),
            ExclusionConstraint(
                name="adhesion_no_overlap",
                expressions=[
                    ("adherent", RangeOperators.EQUAL),
                    (models.Func(F("start_date"), Coalesce(F("end_date"), models.Value(datetime.date(9999, 12, 31))),
                                 models.Value("[]"), function="daterange",
                                 output_field=DateRangeField()), RangeOperators.OVERLAPS),
                ],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.adherent} — {self.start_date:%d/%m/%Y}"


class EmploymentQuerySet(models.QuerySet):
    def open(self) -> "EmploymentQuerySet":
        return self.filter(end_date__isnull=True)

    def on(self, day: datetime.date) -> "EmploymentQuerySet":
        return self.filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))


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

    objects = EmploymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("emploi")
        verbose_name_plural = _("emplois (effectifs)")
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
        indexes = [models.Index(fields=["agent"], name="employment_agent_idx")]

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


class Manager(models.Model):
    """A user who manages an adherent: HR correspondent or COS administrator."""

    class Role(models.TextChoices):
        CORRESPONDENT = "correspondent", _("correspondant")
        COS_ADMIN = "cos_admin", _("administrateur du COS")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"),
                             on_delete=models.CASCADE, related_name="managements")
    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.CASCADE,
                                 related_name="managers")
    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("depuis le"), auto_now_add=True)

    class Meta:
        verbose_name = _("gestionnaire")
        verbose_name_plural = _("gestionnaires")
        ordering = ["adherent", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "adherent", "role"], name="manager_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.adherent}"

    def clean(self) -> None:
        if self.adherent_id and self.role:
            check_manager_role(adherent=self.adherent, role=self.role)


def check_manager_role(*, adherent: Adherent, role: str) -> None:
    """A COS administrator manages a COS; a correspondent manages an employer."""
    from django.core.exceptions import ValidationError

    expected = Manager.Role.COS_ADMIN if adherent.is_cos else Manager.Role.CORRESPONDENT
    if role != expected:
        raise ValidationError(
            _("Le rôle « %(role)s » ne convient pas à un adhérent de nature « %(kind)s »."),
            params={"role": Manager.Role(role).label, "kind": adherent.get_kind_display()},
            code="role_mismatch",
        )


def upload_to_rosters(instance, filename: str) -> str:
    return private_upload_path("rosters", filename)


def upload_to_deliberations(instance, filename: str) -> str:
    return private_upload_path("deliberations", filename)


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


class MembershipApplication(models.Model):
    """A structure that is not a member yet asks to join (public form); staff decide."""

    class Status(models.TextChoices):
        PENDING = "pending", _("à instruire")
        APPROVED = "approved", _("approuvée")
        REJECTED = "rejected", _("refusée")

    siret = models.CharField(_("SIRET"), max_length=14, validators=[validate_siret])
    name = models.CharField(_("nom de la structure"), max_length=255)
    kind = models.CharField(_("nature"), max_length=16, choices=AdherentKind.choices)
    category = models.CharField(_("catégorie"), max_length=16, choices=AdherentCategory.choices)
    address = models.CharField(_("adresse"), max_length=255)
    postcode = models.CharField(_("code postal"), max_length=5, validators=[validate_french_postcode])
    city = models.CharField(_("commune"), max_length=150)
    contact_first_name = models.CharField(_("prénom du contact"), max_length=150)
    contact_last_name = models.CharField(_("nom du contact"), max_length=150)
    contact_role = models.CharField(_("fonction du contact"), max_length=150, blank=True)
    contact_email = models.EmailField(_("e-mail du contact"))
    contact_phone = models.CharField(_("téléphone du contact"), max_length=20, blank=True)
    covers_retired = models.BooleanField(_("couvrir aussi les retraités"), default=False)
    start_date = models.DateField(_("date d'effet souhaitée"))
    deliberation = models.FileField(_("délibération (PDF)"), storage=private_storage,
                                    upload_to=upload_to_deliberations, max_length=255)
    region = models.ForeignKey(Region, verbose_name=_("délégation régionale"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text=_("À choisir par l'organisme avant l'approbation."))
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("reçue le"), auto_now_add=True)
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("décidée par"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    decision_reason = models.TextField(_("motif"), blank=True)
    adherent = models.OneToOneField(Adherent, verbose_name=_("adhérent créé"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="application")

    class Meta:
        verbose_name = _("demande d'adhésion")
        verbose_name_plural = _("demandes d'adhésion")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["siret"], condition=Q(status="pending"),
                                    name="application_one_pending_per_siret"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.siret})"


# --- Contributions ----------------------------------------------------------------------------

MONEY = {"max_digits": 12, "decimal_places": 2}


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

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="chunks")
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
        paid = Payment.objects.filter(call=OuterRef("pk")).values("call").annotate(
            total=models.Sum("amount")).values("total")
        return self.annotate(paid=Coalesce(Subquery(paid), Value(Decimal("0")),
                                           output_field=models.DecimalField(**MONEY)),
                             balance=F("amount") - F("paid"))


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

    call = models.ForeignKey(ContributionCall, on_delete=models.CASCADE, related_name="reminders")
    level = models.PositiveSmallIntegerField(_("relance"))  # 1: due + 15 days, 2: due + 30 days
    sent_at = models.DateTimeField(_("envoyée le"), auto_now_add=True)
    balance = models.DecimalField(_("solde relancé (€)"), **MONEY)

    class Meta:
        verbose_name = _("relance")
        verbose_name_plural = _("relances")
        constraints = [models.UniqueConstraint(fields=["call", "level"], name="reminder_once_per_level")]

    def __str__(self) -> str:
        return f"Relance {self.level} — {self.call.reference}"
