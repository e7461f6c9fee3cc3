"""Member structures, their adhesion, their staff roster, coverage and managers."""

import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

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
