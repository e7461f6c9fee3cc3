"""People: users who log in, agents who benefit, their households, staff profiles."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cnas.history import tracked
from cnas.private_files import private_storage, private_upload_path
from cnas.validators import validate_bic, validate_french_postcode, validate_iban


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


@tracked(exclude=("password", "last_login"))
class User(AbstractBaseUser, PermissionsMixin):
    """Someone who logs in, with an e-mail address (django-allauth)."""

    email = models.EmailField(_("adresse e-mail"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=150, blank=True)
    last_name = models.CharField(_("nom"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("équipe de l'organisme"), default=False,
        help_text=_("Donne accès à l'administration."),
    )
    is_active = models.BooleanField(_("actif"), default=True)
    date_joined = models.DateTimeField(_("date d'inscription"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")
        permissions = [("manage_staff", _("Gérer les comptes et les rôles de l'équipe"))]
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    def get_short_name(self) -> str:
        return self.first_name or self.email


class AgentStatus(models.TextChoices):
    WORKING = "working", _("en activité")
    RETIRED = "retired", _("retraité")


class AgentQuerySet(models.QuerySet):
    def search(self, term: str) -> "AgentQuerySet":
        term = term.strip()
        if not term:
            return self
        return self.filter(
            models.Q(last_name__icontains=term) | models.Q(first_name__icontains=term)
        )


@tracked()
class Agent(models.Model):
    """A beneficiary: a member of staff, working or retired, of an adherent."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("femme")
        MALE = "M", _("homme")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("compte"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="agent",
    )
    last_name = models.CharField(_("nom"), max_length=150)
    birth_name = models.CharField(_("nom de naissance"), max_length=150, blank=True)
    first_name = models.CharField(_("prénom"), max_length=150)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("date de naissance"))
    status = models.CharField(_("situation"), max_length=16, choices=AgentStatus.choices,
                              default=AgentStatus.WORKING)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=20, blank=True)
    address = models.CharField(_("adresse"), max_length=255, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True,
                                validators=[validate_french_postcode])
    city = models.CharField(_("commune"), max_length=150, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True, validators=[validate_iban])
    bic = models.CharField(_("BIC"), max_length=11, blank=True, validators=[validate_bic])
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = AgentQuerySet.as_manager()

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["last_name", "first_name", "id"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="agent_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_date__gt="1900-01-01"), name="agent_birth_date_plausible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_name.upper()} {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name.upper()}"


@tracked()
class FamilyMember(models.Model):
    """A member of an agent's household: spouse or partner, child, other dependant."""

    class Relation(models.TextChoices):
        SPOUSE = "spouse", _("conjoint")
        CHILD = "child", _("enfant")
        OTHER = "other", _("autre personne à charge")

    agent = models.ForeignKey(Agent, verbose_name=_("agent"), on_delete=models.CASCADE,
                              related_name="household")
    relation = models.CharField(_("lien"), max_length=16, choices=Relation.choices)
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    birth_date = models.DateField(_("date de naissance"))
    adoption_date = models.DateField(
        _("date d'arrivée au foyer (adoption)"), null=True, blank=True,
        help_text=_("Pour un enfant adopté : les aides à la naissance ou à l'adoption comptent leur délai "
                    "depuis cette date."))
    is_dependent = models.BooleanField(_("à charge"), default=True)

    class Meta:
        verbose_name = _("membre du foyer")
        verbose_name_plural = _("membres du foyer")
        ordering = ["relation", "birth_date", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"], condition=models.Q(relation="spouse"),
                name="family_one_spouse_per_agent",
            ),
            models.CheckConstraint(condition=Q(adoption_date__isnull=True) | Q(adoption_date__gte=F("birth_date")),
                                   name="family_adoption_after_birth"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name.upper()} ({self.get_relation_display()})"

    @property
    def arrival_date(self):
        """When the child came into the household: the adoption, or else the birth."""
        return self.adoption_date or self.birth_date


def upload_to_tax_notices(instance, filename: str) -> str:
    return private_upload_path("tax-notices", filename)


@tracked()
class TaxDeclaration(models.Model):
    """The household's reference tax income and tax shares for a year, with the notice."""

    agent = models.ForeignKey(Agent, verbose_name=_("agent"), on_delete=models.CASCADE,
                              related_name="tax_declarations")
    year = models.PositiveSmallIntegerField(_("année des revenus"))
    reference_income = models.DecimalField(_("revenu fiscal de référence (€)"), max_digits=12, decimal_places=2)
    shares = models.DecimalField(_("nombre de parts"), max_digits=4, decimal_places=2)
    notice = models.FileField(_("avis d'imposition (PDF)"), storage=private_storage,
                              upload_to=upload_to_tax_notices, max_length=255)
    declared_at = models.DateTimeField(_("déclaré le"), auto_now=True)

    class Meta:
        verbose_name = _("déclaration fiscale")
        verbose_name_plural = _("déclarations fiscales")
        ordering = ["agent", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "year"], name="tax_one_per_year"),
            models.CheckConstraint(condition=Q(reference_income__gte=0), name="tax_income_non_negative"),
            models.CheckConstraint(condition=Q(shares__gte=1) & Q(shares__lte=20), name="tax_shares_range"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} — {self.year}"

    @property
    def family_quotient(self) -> Decimal:
        from cnas.money import round_cents

        return round_cents(self.reference_income / self.shares / 12)



@tracked()
class StaffProfile(models.Model):
    """A member of the national body's staff and what he or she may see: one regional
    delegation, or every one (the national flag of the head office). Neither: nothing."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"),
                                on_delete=models.CASCADE, related_name="staff_profile")
    region = models.ForeignKey("adhesions.Region", verbose_name=_("délégation régionale"),
                               null=True, blank=True, on_delete=models.PROTECT,
                               related_name="staff")
    is_national = models.BooleanField(
        _("portée nationale"), default=False,
        help_text=_("Voit toutes les délégations (siège). Sans délégation ni portée nationale, rien n'est visible."))
    job_title = models.CharField(_("fonction"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("profil de l'équipe")
        verbose_name_plural = _("profils de l'équipe")

    def __str__(self) -> str:
        scope = _("national") if self.is_national else (self.region or _("aucune délégation"))
        return f"{self.user} ({scope})"
