"""The loan products of the catalogue: a prestation of the category « prêts » whose amount the agent
chooses, lent at a rate and paid back by direct debit (imported by prestations.models)."""

from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from cnas.history import tracked

MONEY = {"max_digits": 12, "decimal_places": 2}


@tracked()
class LoanProduct(models.Model):
    """What a loan prestation lends: amounts, durations, rate, deferral, the agent's debt ratio; who may
    borrow and the documents asked are the prestation's own rules."""

    prestation = models.OneToOneField("prestations.Prestation", verbose_name=_("prestation"),
                                      on_delete=models.CASCADE, related_name="loan_product",
                                      limit_choices_to={"category": "loan"})
    min_amount = models.DecimalField(_("montant minimal (€)"), **MONEY, validators=[MinValueValidator(Decimal("1"))])
    max_amount = models.DecimalField(_("montant maximal (€)"), **MONEY)
    durations = ArrayField(models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(120)]),
                           verbose_name=_("durées proposées (mois)"),
                           help_text=_("Séparées par des virgules : 12,24,36."))
    annual_rate = models.DecimalField(_("taux annuel nominal (%)"), max_digits=5, decimal_places=3,
                                      validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("20"))],
                                      help_text=_("0 pour un prêt sans intérêt."))
    max_deferral_months = models.PositiveSmallIntegerField(
        _("différé maximal avant la première mensualité (mois)"), default=0, validators=[MaxValueValidator(12)],
        help_text=_("Les intérêts du différé s'ajoutent au capital."))
    debt_ratio_limit = models.DecimalField(
        _("taux d'endettement maximal (%)"), max_digits=5, decimal_places=2, default=Decimal("33.00"),
        validators=[MinValueValidator(Decimal("1")), MaxValueValidator(Decimal("100"))],
        help_text=_("Mensualités de tous les prêts de l'agent rapportées à ses revenus mensuels déclarés."))
    one_at_a_time = models.BooleanField(_("un seul prêt de ce produit à la fois"), default=True)

    class Meta:
        verbose_name = _("produit de prêt")
        verbose_name_plural = _("produits de prêt")
        constraints = [
            models.CheckConstraint(condition=Q(min_amount__gt=0) & Q(max_amount__gte=F("min_amount")),
                                   name="loan_amounts_ordered"),
            models.CheckConstraint(condition=Q(annual_rate__gte=0) & Q(annual_rate__lte=20), name="loan_rate_bounded"),
            models.CheckConstraint(condition=Q(max_deferral_months__lte=12), name="loan_deferral_bounded"),
            models.CheckConstraint(condition=Q(debt_ratio_limit__gt=0) & Q(debt_ratio_limit__lte=100),
                                   name="loan_debt_ratio_bounded"),
            models.CheckConstraint(condition=Q(durations__len__gt=0), name="loan_has_durations"),
        ]

    def __str__(self) -> str:
        return str(self.prestation)

    @property
    def offered_durations(self) -> list[int]:
        return sorted(set(self.durations))
