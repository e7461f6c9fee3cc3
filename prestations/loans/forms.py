"""The agent's loan simulator: amount, duration and deferral among what the product offers."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from cnas.forms import MoneyField
from cnas.money import format_euros
from prestations.loans.models import LoanProduct
from prestations.loans.schedule import Schedule, compute, first_line_month


def _months(count: int) -> str:
    return ngettext("%(n)d mois", "%(n)d mois", count) % {"n": count}


class LoanSimulationForm(forms.Form):
    """Valid, it holds the schedule of the loan chosen (``schedule``), as if paid out today: the one
    computation, made once."""

    amount = MoneyField(label=gettext_lazy("Montant emprunté (€)"))
    months = forms.TypedChoiceField(label=gettext_lazy("Durée de remboursement"), coerce=int)
    deferral = forms.TypedChoiceField(label=gettext_lazy("Différé avant la première mensualité"), coerce=int,
                                      required=False, empty_value=0)

    def __init__(self, *args, product: LoanProduct, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields["amount"].help_text = _("De %(min)s à %(max)s.") % {
            "min": format_euros(product.min_amount), "max": format_euros(product.max_amount)}
        self.schedule: Schedule | None = None
        self.fields["months"].choices = [(months, _months(months)) for months in product.offered_durations]
        if product.max_deferral_months:
            self.fields["deferral"].choices = [(0, _("aucun"))] + [
                (months, _months(months)) for months in range(1, product.max_deferral_months + 1)]
        else:
            del self.fields["deferral"]

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if not self.product.min_amount <= amount <= self.product.max_amount:
            raise forms.ValidationError(_("Le montant doit être compris entre %(min)s et %(max)s.") % {
                "min": format_euros(self.product.min_amount), "max": format_euros(self.product.max_amount)})
        return amount

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.schedule = compute(capital=cleaned["amount"], annual_rate=self.product.annual_rate,
                                    months=cleaned["months"], deferral=cleaned.get("deferral") or 0,
                                    first_month=first_line_month(timezone.localdate()))
        except ValueError:  # an instalment too small for the duration
            raise forms.ValidationError(_("Pour ce montant, choisissez une durée plus courte : la mensualité "
                                          "serait inférieure à 5,00 €.")) from None
        return cleaned
