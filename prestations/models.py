"""The catalogue and everything ordered from it."""


import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cnas.history import tracked
from cnas.private_files import private_storage, private_upload_path

MONEY = {"max_digits": 12, "decimal_places": 2}


def upload_to_documents(instance, filename: str) -> str:
    return private_upload_path("documents", filename)


def upload_to_decisions(instance, filename: str) -> str:
    return private_upload_path("decisions", filename)


DEFAULT_WORDING = {
    "opening": "Nous avons examiné votre demande au vu des pièces fournies et du règlement des prestations.",
    "closing": "Nous restons à votre disposition pour tout renseignement.",
    "contest": ("Si vous n'êtes pas d'accord avec cette décision, vous pouvez adresser une réclamation motivée, "
                "avec les pièces utiles, à votre délégation régionale dans un délai de deux mois à compter de la "
                "réception de ce courrier. Si la réponse de la délégation ne vous satisfait pas, vous pouvez saisir la "
                "commission de recours dans les deux mois qui suivent cette réponse."),
    "commission_name": "Commission nationale des recours",
    "commission_address": "Siège du CNAS\n12 rue de l'Entraide\n75015 PARIS",
    "signature_formula": "Pour le président et par délégation,",
}


def upload_to_batches(instance, filename: str) -> str:
    return private_upload_path("sepa", filename)


class Category(models.TextChoices):
    AID = "aid", _("aides")
    LOAN = "loan", _("prêts")
    HOLIDAY = "holiday", _("vacances")
    LEISURE = "leisure", _("loisirs et culture")
    SOLIDARITY = "solidarity", _("solidarité")


class Event(models.TextChoices):
    NONE = "none", _("aucun")
    BIRTH = "birth", _("naissance ou adoption")
    WEDDING = "wedding", _("mariage ou PACS")
    SCHOOL_YEAR = "school_year", _("rentrée scolaire")
    RETIREMENT = "retirement", _("départ à la retraite")
    DEATH = "death", _("décès d'un proche")


CHILD_EVENTS = {Event.BIRTH, Event.SCHOOL_YEAR}


class AmountRule(models.TextChoices):
    FIXED = "fixed", _("somme fixe")
    BRACKETS = "brackets", _("somme selon la tranche de quotient familial")
    SHARE = "share", _("part de la dépense, plafonnée")
    LOAN = "loan", _("prêt : montant choisi par l'agent (produit de prêt)")


class TimeUnit(models.TextChoices):
    MONTHS = "months", _("mois")
    DAYS = "days", _("jours")


@tracked()
class DocumentKind(models.Model):
    """A kind of supporting document a prestation may require (certificat de scolarité,
    acte de naissance, facture…): a request is sent only when each required kind is there."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("libellé"), max_length=150, unique=True)
    help_text = models.CharField(_("précision pour l'agent"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("type de pièce justificative")
        verbose_name_plural = _("types de pièces justificatives")
        ordering = ["label"]

    def __str__(self) -> str:
        return self.label


class PrestationQuerySet(models.QuerySet):
    def offered_on(self, day):
        return self.filter(is_active=True, valid_from__lte=day).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=day))


@tracked()
class Prestation(models.Model):
    """A benefit of the catalogue and its rules, edited by staff in the admin."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("nom"), max_length=150)
    category = models.CharField(_("catégorie"), max_length=16, choices=Category.choices)
    description = models.TextField(_("description"))
    conditions = models.TextField(_("conditions (en clair)"), blank=True)
    for_working = models.BooleanField(_("ouverte aux agents en activité"), default=True)
    for_retired = models.BooleanField(_("ouverte aux retraités"), default=False)
    event = models.CharField(_("événement"), max_length=16, choices=Event.choices, default=Event.NONE)
    amount_rule = models.CharField(_("calcul du montant"), max_length=16, choices=AmountRule.choices,
                                   default=AmountRule.FIXED)
    fixed_amount = models.DecimalField(_("somme fixe (€)"), **MONEY, null=True, blank=True)
    share_percent = models.DecimalField(_("part de la dépense (%)"), max_digits=5, decimal_places=2, null=True,
                                        blank=True)
    share_ceiling = models.DecimalField(_("plafond de la part (€)"), **MONEY, null=True, blank=True)
    required_documents = models.ManyToManyField(DocumentKind, verbose_name=_("pièces justificatives exigées"),
                                                blank=True, related_name="prestations")
    time_limit = models.PositiveSmallIntegerField(
        _("délai pour demander après l'événement"), null=True, blank=True,
        help_text=_("Compté de date à date : 6 mois après le 31 août mènent au dernier jour de février, "
                    "qui est compris. Vide : pas de délai."))
    time_limit_unit = models.CharField(_("unité du délai"), max_length=8, choices=TimeUnit.choices,
                                       default=TimeUnit.MONTHS)
    once_per_event = models.BooleanField(_("une seule fois par événement"), default=True,
                                         help_text=_("Par enfant, par mariage, par année scolaire…"))
    yearly_ceiling = models.DecimalField(_("plafond annuel par agent (€)"), **MONEY, null=True, blank=True)
    min_service_months = models.PositiveSmallIntegerField(_("ancienneté minimale (mois)"), default=0)
    child_min_age = models.PositiveSmallIntegerField(_("âge minimal de l'enfant"), null=True, blank=True)
    child_max_age = models.PositiveSmallIntegerField(_("âge maximal de l'enfant"), null=True, blank=True)
    valid_from = models.DateField(_("proposée à partir du"))
    valid_until = models.DateField(_("proposée jusqu'au"), null=True, blank=True)
    employer_attestation = models.BooleanField(_("attestation de l'employeur requise"), default=False)
    instruction_limit_days = models.PositiveSmallIntegerField(
        _("délai d'instruction signalé (jours)"), default=21,
        help_text=_("Au-delà, la demande ressort dans la file et dans le récapitulatif quotidien."))
    is_active = models.BooleanField(_("active"), default=True)

    objects = PrestationQuerySet.as_manager()

    class Meta:
        verbose_name = _("prestation")
        verbose_name_plural = _("prestations")
        ordering = ["category", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(for_working=True) | Q(for_retired=True),
                                   name="prestation_open_to_someone"),
            models.CheckConstraint(condition=~Q(amount_rule="fixed") | Q(fixed_amount__gte=0),
                                   name="prestation_fixed_has_amount"),
            models.CheckConstraint(condition=~Q(amount_rule="share")
                                   | (Q(share_percent__gt=0) & Q(share_percent__lte=100)),
                                   name="prestation_share_has_percent"),
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                                   name="prestation_validity_ordered"),
            models.CheckConstraint(condition=Q(child_min_age__isnull=True) | Q(child_max_age__isnull=True)
                                   | Q(child_max_age__gte=F("child_min_age")), name="prestation_ages_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def time_limit_label(self) -> str:
        if self.time_limit is None:
            return ""
        return f"{self.time_limit} {TimeUnit(self.time_limit_unit).label}"

    @property
    def concerns_a_child(self) -> bool:
        return self.event in CHILD_EVENTS


@tracked()
class Bracket(models.Model):
    """One line of a prestation's table by family quotient: up to ``qf_max``, this amount."""

    prestation = models.ForeignKey(Prestation, on_delete=models.CASCADE, related_name="brackets")
    qf_max = models.DecimalField(_("quotient familial jusqu'à (€)"), **MONEY, null=True, blank=True,
                                 help_text=_("Vide : sans limite (dernière tranche)."))
    amount = models.DecimalField(_("montant (€)"), **MONEY)

    class Meta:
        verbose_name = _("tranche de quotient familial")
        verbose_name_plural = _("tranches de quotient familial")
        ordering = ["prestation", F("qf_max").asc(nulls_last=True)]
        constraints = [
            models.UniqueConstraint(fields=["prestation", "qf_max"], name="bracket_unique_limit",
                                    nulls_distinct=False),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bracket_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"≤ {self.qf_max} € : {self.amount} €" if self.qf_max is not None else f"au-delà : {self.amount} €"


@tracked(exclude=("decision_pdf", "refusal_attestation_pdf"))
class Demande(models.Model):
    """An agent's request for a prestation, from draft to payment."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("brouillon")
        SUBMITTED = "submitted", _("déposée")
        AWAITING_ATTESTATION = "awaiting_attestation", _("en attente de l'attestation de l'employeur")
        AWAITING_DOCUMENTS = "awaiting_documents", _("pièces demandées")
        ACCEPTED = "accepted", _("acceptée")
        REFUSED = "refused", _("refusée")
        WITHDRAWN = "withdrawn", _("retirée")
        PAID = "paid", _("payée")

    OPEN = (Status.SUBMITTED, Status.AWAITING_ATTESTATION, Status.AWAITING_DOCUMENTS)
    GRANTED = (Status.ACCEPTED, Status.PAID)

    agent = models.ForeignKey("accounts.Agent", verbose_name=_("agent"), on_delete=models.PROTECT,
                              related_name="demandes")
    prestation = models.ForeignKey(Prestation, verbose_name=_("prestation"), on_delete=models.PROTECT,
                                   related_name="demandes")
    status = models.CharField(_("statut"), max_length=24, choices=Status.choices, default=Status.DRAFT)
    event_date = models.DateField(_("date de l'événement"), null=True, blank=True)
    child = models.ForeignKey("accounts.FamilyMember", verbose_name=_("enfant concerné"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="demandes")
    expense = models.DecimalField(_("montant de la dépense (€)"), **MONEY, null=True, blank=True)
    event_key = models.CharField(_("clé de l'événement"), max_length=64, blank=True,
                                 help_text=_("Ce qui rend deux demandes « la même » : l'enfant, la date…"))
    adherent = models.ForeignKey("adhesions.Adherent", verbose_name=_("adhérent qui ouvre droit"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="demandes")
    region = models.ForeignKey("adhesions.Region", verbose_name=_("délégation"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="demandes")
    amount_computed = models.DecimalField(_("montant selon la règle (€)"), **MONEY, null=True, blank=True)
    amount_granted = models.DecimalField(_("montant accordé (€)"), **MONEY, null=True, blank=True)
    amount_change_reason = models.TextField(_("motif du changement de montant"), blank=True)
    refusal_reason = models.TextField(_("motif du refus"), blank=True)
    # The rules the request did not meet on the day it was refused, each in full, beside the instructor's reason.
    refusal_grounds = ArrayField(models.TextField(), verbose_name=_("motifs réglementaires du refus"), default=list,
                                 blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("déposée le"), null=True, blank=True)
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("décidée par"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("instructeur"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="assigned_demandes")
    attested_at = models.DateTimeField(_("attestée le"), null=True, blank=True)
    attested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("attestée par"), null=True,
                                    blank=True, on_delete=models.SET_NULL, related_name="+")
    decision_pdf = models.FileField(_("lettre de décision"), storage=private_storage, upload_to=upload_to_decisions,
                                    max_length=255, blank=True)
    refusal_attestation_pdf = models.FileField(_("attestation de refus"), storage=private_storage,
                                               upload_to=upload_to_decisions, max_length=255, blank=True)
    batch = models.ForeignKey("PaymentBatch", verbose_name=_("lot de paiement"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="demandes")
    paid_at = models.DateTimeField(_("payée le"), null=True, blank=True)
    # Time the request spent waiting on the agent (documents asked for): left out of the time to decide.
    awaiting_agent_since = models.DateTimeField(_("en attente de l'agent depuis"), null=True, blank=True)
    agent_wait = models.DurationField(_("temps passé à attendre l'agent"), default=datetime.timedelta)

    class Meta:
        verbose_name = _("demande")
        verbose_name_plural = _("demandes")
        permissions = [("instruct_demande", _("Instruire les demandes"))]
        ordering = ["-created_at"]
        constraints = [
            # A double payment cannot happen: one granted request per agent, prestation and event.
            models.UniqueConstraint(fields=["agent", "prestation", "event_key"],
                                    condition=Q(status__in=["accepted", "paid"]), name="demande_granted_once"),
            # Two sends of the same once-per-event request at the same moment: one open request.
            models.UniqueConstraint(fields=["agent", "prestation", "event_key"],
                                    condition=Q(status__in=["submitted", "awaiting_attestation", "awaiting_documents"]),
                                    name="demande_open_once"),
            models.CheckConstraint(condition=~Q(status__in=["accepted", "paid"]) | Q(amount_granted__gte=0),
                                   name="demande_granted_has_amount"),
            models.CheckConstraint(condition=~Q(status="refused") | ~Q(refusal_reason=""),
                                   name="demande_refusal_has_reason"),
            models.CheckConstraint(condition=~Q(status="paid") | Q(batch__isnull=False),
                                   name="demande_paid_through_a_batch"),
        ]
        indexes = [
            models.Index(fields=["status", "region", "submitted_at"], name="demande_queue_idx"),
            # The queue: open requests, oldest first, of a region or of all of them.
            models.Index(fields=["region", "submitted_at", "id"], name="demande_open_region_idx",
                         condition=Q(status__in=["submitted", "awaiting_attestation", "awaiting_documents"])),
            models.Index(fields=["submitted_at", "id"], name="demande_open_idx",
                         condition=Q(status__in=["submitted", "awaiting_attestation", "awaiting_documents"])),
            # The « Toutes » tab: every request of a region (or of all), oldest first.
            models.Index(fields=["region", "submitted_at", "id"], name="demande_region_submitted_idx"),
            models.Index(fields=["submitted_at", "id"], name="demande_submitted_idx"),
            models.Index(fields=["assigned_to", "submitted_at"], name="demande_open_assigned_idx",
                         condition=Q(status__in=["submitted", "awaiting_attestation", "awaiting_documents"])),
            models.Index(fields=["agent", "prestation", "status"], name="demande_agent_idx"),
            models.Index(fields=["prestation", "decided_at"], name="demande_decided_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.prestation.name} — {self.agent}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def accepts_documents(self) -> bool:
        return self.status in (self.Status.DRAFT, *self.OPEN)

    @property
    def can_be_withdrawn(self) -> bool:
        return self.status in (self.Status.DRAFT, *self.OPEN)


class LetterWording(models.Model):
    """What a decision letter says beyond its facts, edited by staff: one per kind of decision. The
    letter is written once, with the wording of the day; a later edit changes the next letters only."""

    class Kind(models.TextChoices):
        ACCEPTANCE = "acceptance", _("décision d'attribution")
        REFUSAL = "refusal", _("décision de refus")

    kind = models.CharField(_("lettre"), max_length=16, choices=Kind.choices, unique=True)
    opening = models.TextField(_("introduction"), default=DEFAULT_WORDING["opening"])
    closing = models.TextField(_("paragraphe final"), default=DEFAULT_WORDING["closing"], blank=True)
    contest = models.TextField(
        _("voies de recours"), default=DEFAULT_WORDING["contest"],
        help_text=_("Comment contester : la réclamation motivée à la délégation régionale dans les deux mois, puis la "
                    "commission. Les adresses de la délégation et de la commission sont ajoutées dessous."))
    commission_name = models.CharField(_("commission de recours"), max_length=200,
                                       default=DEFAULT_WORDING["commission_name"])
    commission_address = models.TextField(_("adresse de la commission"), default=DEFAULT_WORDING["commission_address"])
    signature_formula = models.CharField(_("formule de signature"), max_length=200,
                                         default=DEFAULT_WORDING["signature_formula"])
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("texte des lettres de décision")
        verbose_name_plural = _("textes des lettres de décision")
        ordering = ["kind"]

    def __str__(self) -> str:
        return str(self.get_kind_display())

    @classmethod
    def for_kind(cls, kind: str) -> "LetterWording":
        """The wording staff wrote, or the default one when nobody has written it yet."""
        return cls.objects.filter(kind=kind).first() or cls(kind=kind)


class DemandeDocument(models.Model):
    demande = models.ForeignKey(Demande, on_delete=models.CASCADE, related_name="documents")
    kind = models.ForeignKey(DocumentKind, verbose_name=_("type de pièce"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+",
                             help_text=_("Vide : pièce complémentaire, hors des pièces exigées."))
    label = models.CharField(_("pièce"), max_length=200)
    file = models.FileField(_("fichier"), storage=private_storage, upload_to=upload_to_documents, max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("taille"))
    uploaded_at = models.DateTimeField(_("déposé le"), auto_now_add=True)

    class Meta:
        verbose_name = _("pièce justificative")
        verbose_name_plural = _("pièces justificatives")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.label} — {self.original_name}"


class DemandeEvent(models.Model):
    """The timeline of a request: each change of status and each message."""

    class Kind(models.TextChoices):
        STATUS = "status", _("changement de statut")
        MESSAGE_AGENT = "message_agent", _("message de l'agent")
        MESSAGE_STAFF = "message_staff", _("message de l'instructeur")
        DOCUMENT = "document", _("pièce ajoutée")
        NOTE = "note", _("note interne")
        OPINION_ASKED = "opinion_asked", _("avis demandé")
        OPINION = "opinion", _("avis donné")

    STAFF_ONLY = (Kind.NOTE, Kind.OPINION_ASKED, Kind.OPINION)

    demande = models.ForeignKey(Demande, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("date"), auto_now_add=True)
    kind = models.CharField(_("nature"), max_length=16, choices=Kind.choices)
    status = models.CharField(_("statut"), max_length=24, choices=Demande.Status.choices, blank=True)
    text = models.TextField(_("texte"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    addressee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("avis demandé à"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="opinions_asked")
    answers = models.OneToOneField("self", verbose_name=_("répond à"), null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="answer")

    class Meta:
        verbose_name = _("étape de la demande")
        verbose_name_plural = _("historique des demandes")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["addressee"], name="demandeevent_opinion_idx",
                                condition=Q(kind="opinion_asked"))]

    def __str__(self) -> str:
        return f"{self.at:%d/%m/%Y} {self.get_kind_display()}"


@tracked()
class PaymentBatch(models.Model):
    """Accepted requests paid together by one SEPA credit transfer file."""

    class Status(models.TextChoices):
        PREPARED = "prepared", _("préparé")
        SENT = "sent", _("envoyé à la banque")

    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.PREPARED)
    region = models.ForeignKey("adhesions.Region", verbose_name=_("délégation"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text=_("Vide : lot national, pour les demandes de toutes les délégations."))
    message_id = models.CharField(_("identifiant du message SEPA"), max_length=35, unique=True)
    execution_date = models.DateField(_("date d'exécution"))
    total = models.DecimalField(_("total (€)"), **MONEY, default=0)
    count = models.PositiveIntegerField(_("virements"), default=0)
    file = models.FileField(_("fichier pain.001"), storage=private_storage, upload_to=upload_to_batches,
                            max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("préparé par"))
    created_at = models.DateTimeField(_("préparé le"), auto_now_add=True)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", verbose_name=_("envoi confirmé par"))

    class Meta:
        verbose_name = _("lot de paiement SEPA")
        verbose_name_plural = _("lots de paiement SEPA")
        permissions = [("prepare_paymentbatch", _("Préparer un lot de paiement")),
                       ("confirm_paymentbatch", _("Confirmer l'envoi d'un lot à la banque"))]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.count} virements, {self.total} €)"



class IndicatorSnapshot(models.Model):
    """The staff dashboard's figures for a region (or, region empty, the whole country), computed
    by the worker (``prestations.indicators``): the dashboard reads one row."""

    region = models.ForeignKey("adhesions.Region", verbose_name=_("délégation"), null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    computed_at = models.DateTimeField(_("calculé le"))
    data = models.JSONField(_("indicateurs"), default=dict)

    class Meta:
        verbose_name = _("indicateurs calculés")
        verbose_name_plural = _("indicateurs calculés")
        constraints = [models.UniqueConstraint(fields=["region"], name="indicators_one_per_scope",
                                               nulls_distinct=False)]

    def __str__(self) -> str:
        return str(self.region or _("national"))


class PrestationDelays(models.Model):
    """How long this prestation's requests took to be decided over the last 90 days, the time waiting
    on the agent left out: kept by the worker (``prestations.indicators.refresh_delays``, with the
    dashboard), so that the prestation page reads one row instead of ranking 90 days of requests."""

    prestation = models.OneToOneField(Prestation, verbose_name=_("prestation"), primary_key=True,
                                      on_delete=models.CASCADE, related_name="delays")
    median_days = models.DecimalField(_("médiane (jours)"), max_digits=6, decimal_places=1, null=True)
    p90_days = models.DecimalField(_("9 sur 10 en moins de (jours)"), max_digits=6, decimal_places=1, null=True)
    decided = models.PositiveIntegerField(_("demandes décidées"), default=0)
    computed_at = models.DateTimeField(_("calculé le"))

    class Meta:
        verbose_name = _("délais de décision")
        verbose_name_plural = _("délais de décision")

    def __str__(self) -> str:
        return str(self.prestation)


from prestations.loans.models import LoanProduct  # noqa: E402, F401 - the loans' models, registered with this app
