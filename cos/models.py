"""What a COS does beyond being an adherent: its members and their fees, the employers it
serves and the tripartite conventions, its local actions and their registrations."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from cnas.history import tracked
from cnas.private_files import private_storage, private_upload_path

MONEY = {"max_digits": 12, "decimal_places": 2}


def upload_to_conventions(instance, filename: str) -> str:
    return private_upload_path("conventions", filename)


@tracked()
class CosSettings(models.Model):
    """The association's own rules: the yearly fee and the date by which it must be paid."""

    cos = models.OneToOneField("adhesions.Adherent", on_delete=models.CASCADE, related_name="cos_settings",
                               verbose_name=_("COS"))
    fee_amount = models.DecimalField(_("cotisation annuelle d'un membre (€)"), **MONEY, default=0)
    fee_deadline_month = models.PositiveSmallIntegerField(_("mois limite de paiement"), default=3)
    fee_deadline_day = models.PositiveSmallIntegerField(_("jour limite de paiement"), default=31)

    class Meta:
        verbose_name = _("réglage du COS")
        verbose_name_plural = _("réglages des COS")
        constraints = [
            models.CheckConstraint(condition=Q(fee_deadline_month__gte=1) & Q(fee_deadline_month__lte=12)
                                   & Q(fee_deadline_day__gte=1) & Q(fee_deadline_day__lte=31),
                                   name="cos_deadline_is_a_date"),
        ]

    def __str__(self) -> str:
        return f"{self.cos}"

    def deadline(self, year: int) -> datetime.date:
        """The date of the year by which the fee must be paid (the month's last day at most)."""
        import calendar

        last = calendar.monthrange(year, self.fee_deadline_month)[1]
        return datetime.date(year, self.fee_deadline_month, min(self.fee_deadline_day, last))


class CosEmployer(models.Model):
    """An employer whose staff the COS serves (a COS can serve a commune and its CCAS)."""

    cos = models.ForeignKey("adhesions.Adherent", on_delete=models.CASCADE, related_name="served_employers",
                            verbose_name=_("COS"))
    employer = models.ForeignKey("adhesions.Adherent", on_delete=models.PROTECT, related_name="serving_cos",
                                 verbose_name=_("employeur"))

    class Meta:
        verbose_name = _("employeur servi")
        verbose_name_plural = _("employeurs servis")
        constraints = [models.UniqueConstraint(fields=["cos", "employer"], name="cos_employer_unique"),
                       models.CheckConstraint(condition=~Q(cos=F("employer")), name="cos_not_its_own_employer")]

    def __str__(self) -> str:
        return f"{self.cos} → {self.employer}"


@tracked()
class Convention(models.Model):
    """The tripartite convention (COS, employer, national body): while it runs, the employer's
    contribution covers all its agents; the COS keeps its local role."""

    cos = models.ForeignKey("adhesions.Adherent", on_delete=models.PROTECT, related_name="conventions",
                            verbose_name=_("COS"))
    employer = models.ForeignKey("adhesions.Adherent", on_delete=models.PROTECT, related_name="employer_conventions",
                                 verbose_name=_("employeur"))
    signed_on = models.DateField(_("signée le"))
    start_date = models.DateField(_("date d'effet"))
    end_date = models.DateField(_("date de fin"), null=True, blank=True)
    signed_pdf = models.FileField(_("convention signée (PDF)"), storage=private_storage,
                                  upload_to=upload_to_conventions, max_length=255)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("créée par"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("convention tripartite")
        verbose_name_plural = _("conventions tripartites")
        ordering = ["-start_date"]
        constraints = [models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                                              name="convention_dates_ordered")]

    def __str__(self) -> str:
        return f"{self.cos} / {self.employer} ({self.start_date:%d/%m/%Y})"


class CosMemberQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date):
        return self.filter(joined_on__lte=day).filter(Q(left_on__isnull=True) | Q(left_on__gte=day))


@tracked()
class CosMember(models.Model):
    """An agent who joined the COS individually."""

    cos = models.ForeignKey("adhesions.Adherent", on_delete=models.PROTECT, related_name="cos_members",
                            verbose_name=_("COS"))
    agent = models.ForeignKey("accounts.Agent", on_delete=models.PROTECT, related_name="cos_memberships",
                              verbose_name=_("agent"))
    joined_on = models.DateField(_("adhérent depuis le"))
    left_on = models.DateField(_("parti le"), null=True, blank=True)
    left_reason = models.CharField(_("motif du départ"), max_length=200, blank=True)

    objects = CosMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("membre du COS")
        verbose_name_plural = _("membres du COS")
        ordering = ["cos", "agent__last_name", "agent__first_name"]
        constraints = [
            models.UniqueConstraint(fields=["cos", "agent"], condition=Q(left_on__isnull=True),
                                    name="cos_member_once_at_a_time"),
            models.CheckConstraint(condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")),
                                   name="cos_member_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.agent} — {self.cos}"


@tracked()
class MemberFee(models.Model):
    """A member's fee for a year."""

    class Means(models.TextChoices):
        CASH = "cash", _("espèces")
        CHEQUE = "cheque", _("chèque")
        TRANSFER = "transfer", _("virement")
        PAYROLL = "payroll", _("retenue sur salaire")

    member = models.ForeignKey(CosMember, on_delete=models.CASCADE, related_name="fees", verbose_name=_("membre"))
    year = models.PositiveSmallIntegerField(_("année"))
    amount = models.DecimalField(_("montant (€)"), **MONEY)
    paid_on = models.DateField(_("payée le"))
    means = models.CharField(_("moyen"), max_length=16, choices=Means.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("enregistrée par"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("cotisation de membre")
        verbose_name_plural = _("cotisations des membres")
        ordering = ["-year"]
        constraints = [models.UniqueConstraint(fields=["member", "year"], name="member_fee_once_a_year"),
                       models.CheckConstraint(condition=Q(amount__gte=0), name="member_fee_non_negative")]

    def __str__(self) -> str:
        return f"{self.member} — {self.year}"


class LocalActionQuerySet(models.QuerySet):
    def with_seats(self):
        """Each action with ``seats_taken`` (confirmed) and ``seats_waiting`` (people in line)."""
        def seats(status):
            return Coalesce(Sum("registrations__seats", filter=Q(registrations__status=status)), 0)
        return self.annotate(seats_taken=seats("confirmed"), seats_waiting=seats("waiting"))


class LocalAction(models.Model):
    """A local action of the COS: Christmas tree, bus trip, show…"""

    cos = models.ForeignKey("adhesions.Adherent", on_delete=models.PROTECT, related_name="local_actions",
                            verbose_name=_("COS"))
    title = models.CharField(_("titre"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("date et heure"))
    place = models.CharField(_("lieu"), max_length=200)
    capacity = models.PositiveIntegerField(_("places"))
    price_adult = models.DecimalField(_("prix par adulte (€)"), **MONEY, default=0)
    price_child = models.DecimalField(_("prix par enfant (€)"), **MONEY, default=0)
    registration_deadline = models.DateField(_("inscriptions jusqu'au"))
    is_published = models.BooleanField(_("publiée"), default=False)

    objects = LocalActionQuerySet.as_manager()

    class Meta:
        verbose_name = _("action locale")
        verbose_name_plural = _("actions locales")
        ordering = ["starts_at"]
        constraints = [models.CheckConstraint(condition=Q(capacity__gte=1), name="action_has_seats")]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%d/%m/%Y})"

    @property
    def seats_left(self) -> int:
        """Needs ``with_seats()``: the seats nobody holds."""
        return max(0, self.capacity - self.seats_taken)


class Registration(models.Model):
    """A member's registration to a local action, for himself and members of his household."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmée")
        WAITING = "waiting", _("liste d'attente")
        CANCELLED = "cancelled", _("annulée")

    action = models.ForeignKey(LocalAction, on_delete=models.CASCADE, related_name="registrations")
    member = models.ForeignKey(CosMember, verbose_name=_("membre"), on_delete=models.PROTECT,
                               related_name="registrations")
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices)
    seats = models.PositiveSmallIntegerField(_("places"))
    amount = models.DecimalField(_("montant (€)"), **MONEY, default=0)
    created_at = models.DateTimeField(_("inscrit le"), auto_now_add=True)

    class Meta:
        verbose_name = _("inscription")
        verbose_name_plural = _("inscriptions")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["action", "member"], condition=~Q(status="cancelled"),
                                    name="registration_once_per_member"),
            models.CheckConstraint(condition=Q(seats__gte=1), name="registration_has_seats"),
        ]

    def __str__(self) -> str:
        return f"{self.member.agent} — {self.action}"


class Participant(models.Model):
    """One person of a registration: the member (no household member) or one of his household."""

    registration = models.ForeignKey(Registration, verbose_name=_("inscription"), on_delete=models.CASCADE,
                                     related_name="participants")
    family_member = models.ForeignKey("accounts.FamilyMember", verbose_name=_("membre du foyer"), null=True,
                                      blank=True, on_delete=models.PROTECT, related_name="+")
    is_child = models.BooleanField(_("enfant"), default=False)
    attended = models.BooleanField(_("présent"), default=False)

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["registration", "id"]

    def __str__(self) -> str:
        person = self.family_member or self.registration.member.agent
        return f"{person}"
