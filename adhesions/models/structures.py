"""Member structures: regional delegations, adherents, their adhesions, managers and joining applications."""

import datetime

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from cnas.history import tracked
from cnas.private_files import private_storage, private_upload_path
from cnas.validators import validate_french_postcode, validate_siret


class Region(models.Model):
    """A regional delegation of the national body."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("nom"), max_length=150, unique=True)
    # Where an agent writes, calls or comes: the contact page, decision letters and their ways to contest.
    address = models.TextField(_("adresse postale"), blank=True,
                               help_text=_("Lignes de l'adresse, sans le code postal ni la ville."))
    postcode = models.CharField(_("code postal"), max_length=5, blank=True, validators=[validate_french_postcode])
    city = models.CharField(_("ville"), max_length=100, blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    opening_hours = models.CharField(_("horaires d'accueil"), max_length=200, blank=True,
                                     default="du lundi au vendredi, de 9 h à 17 h")

    class Meta:
        verbose_name = _("délégation régionale")
        verbose_name_plural = _("délégations régionales")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def postal_lines(self) -> list[str]:
        """The delegation's address as it is written on an envelope."""
        lines = [f"Délégation régionale {self.name}", *self.address.splitlines()]
        if self.postcode or self.city:
            lines.append(f"{self.postcode} {self.city.upper()}".strip())
        return [line.strip() for line in lines if line.strip()]


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


@tracked()
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
    def covering(self) -> "AdhesionQuerySet":
        """The adhesions that cover their period: active ones, and suspended or ended ones
        up to their end date (a pending application covers nothing yet)."""
        return self.filter(status__in=Adhesion.COVERING)

    def active_on(self, day: datetime.date) -> "AdhesionQuerySet":
        return self.covering().filter(start_date__lte=day).filter(Q(end_date__isnull=True) | Q(end_date__gte=day))


@tracked()
class Adhesion(models.Model):
    """One period of membership of an adherent in the national body."""

    class Status(models.TextChoices):
        PENDING = "pending", _("en cours d'instruction")
        ACTIVE = "active", _("active")
        SUSPENDED = "suspended", _("suspendue")
        ENDED = "ended", _("résiliée")

    # Statuses whose period [start, end] covers the adherent's agents and is charged. A
    # suspended or ended adhesion keeps the period it ran; its end date says when it stopped.
    COVERING = (Status.ACTIVE, Status.SUSPENDED, Status.ENDED)

    adherent = models.ForeignKey(Adherent, verbose_name=_("adhérent"), on_delete=models.PROTECT,
                                 related_name="adhesions")
    start_date = models.DateField(_("date d'effet"))
    end_date = models.DateField(_("date de fin"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices,
                              default=Status.PENDING)
    covers_retired = models.BooleanField(_("couvre les retraités"), default=False)
    status_reason = models.TextField(_("motif de la suspension ou de la résiliation"), blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = AdhesionQuerySet.as_manager()

    class Meta:
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        permissions = [("manage_adhesion", _("Suspendre, reprendre ou résilier une adhésion"))]
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="adhesion_dates_ordered",
            ),
            models.CheckConstraint(condition=~Q(status__in=["suspended", "ended"]) | Q(end_date__isnull=False),
                                   name="adhesion_stopped_has_end"),
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
        if self.end_date:
            return f"{self.adherent} — du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"
        return f"{self.adherent} — depuis le {self.start_date:%d/%m/%Y}"


@tracked()
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


def upload_to_deliberations(instance, filename: str) -> str:
    return private_upload_path("deliberations", filename)


@tracked()
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
        permissions = [("decide_membershipapplication", _("Approuver ou refuser une demande d'adhésion"))]
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["siret"], condition=Q(status="pending"),
                                    name="application_one_pending_per_siret"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.siret})"
