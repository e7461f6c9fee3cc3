from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _


class FrenchDecimalField(forms.DecimalField):
    """An amount as French people type it: '1 234 567,89', '1234567.89', '1.234.567,89 €'."""

    default_error_messages = {"invalid": _("Saisissez un montant, par exemple 1 234 567,89.")}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip().replace("€", "")
        for space in (" ", "\xa0", "\u202f"):
            text = text.replace(space, "")
        if "," in text:
            text = text.replace(".", "").replace(",", ".")
        try:
            return super().to_python(str(Decimal(text)))
        except (InvalidOperation, ValueError) as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc
