"""The portal's form fields: money and dates as people type them, and choices among a few rows."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django import forms
from django.utils.translation import gettext_lazy as _

SPACES = (" ", "\xa0", "\u202f", "\u2009")
# What an amount may be made of once the spaces and the euro sign are gone: ASCII digits, one
# sign in front, and points or commas (never ², never a digit of another script, never an
# exponent, NaN or Infinity).
AMOUNT = re.compile(r"^[+-]?[0-9][0-9.,]*$")
GROUPED_POINTS = re.compile(r"^[+-]?[0-9]{1,3}(\.[0-9]{3})+$")  # 1.234.567: points between thousands


def parse_amount(text: str) -> Decimal:
    """'5,50', '1 234,56', '1 234,56 €', '1234.56', '1.234,56' -> Decimal; ValueError otherwise.
    A comma is the decimal separator whenever there is one; points are then thousands. Without
    a comma, a single point is the decimal separator ('5.50'), several separate thousands."""
    value = str(text).strip()
    for space in SPACES:
        value = value.replace(space, "")
    value = value.removesuffix("€").removesuffix("EUR").removesuffix("eur").removeprefix("€")
    if not AMOUNT.match(value):
        raise ValueError(text)
    if "," in value:
        if value.count(",") > 1:
            raise ValueError(text)
        whole, decimals = value.split(",")
        if "." in whole and not GROUPED_POINTS.match(whole):
            raise ValueError(text)
        value = whole.replace(".", "") + "." + decimals
    elif value.count(".") > 1:
        if not GROUPED_POINTS.match(value):
            raise ValueError(text)
        value = value.replace(".", "")
    if value.endswith(".") or value.startswith((".", "+.", "-.")):
        raise ValueError(text)
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(text) from exc


class FrenchDecimalField(forms.DecimalField):
    """A decimal number as French people type it ('2,5' tax shares, '0,86' %)."""

    default_error_messages = {"invalid": _("Saisissez un nombre, par exemple 2,5.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        try:
            return parse_amount(value)
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc

    def prepare_value(self, value):
        """Show a number as it will be read back: '5,50', not '5.50'."""
        if isinstance(value, Decimal):
            return f"{value:f}".replace(".", ",")
        return value


class MoneyField(FrenchDecimalField):
    """The one field for an amount in euros ('5,50', '1 234,56 €', '1234.56'): two decimals at
    most, twelve digits in all, as every money column of the database."""

    default_error_messages = {"invalid": _("Saisissez un montant en euros, par exemple 1 234,56.")}

    def __init__(self, *, max_digits: int = 12, decimal_places: int = 2, **kwargs):
        super().__init__(max_digits=max_digits, decimal_places=decimal_places, **kwargs)


EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)


class DateField(forms.DateField):
    """A date as people type it, within what the rules can compute (1900 to 2099): 31/12/9999
    gets a French message instead of reaching a computation that cannot hold it."""

    def __init__(self, *, earliest: datetime.date = EARLIEST, latest: datetime.date = LATEST, **kwargs):
        self.earliest, self.latest = earliest, latest
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        if value is not None and not self.earliest <= value <= self.latest:
            raise forms.ValidationError(
                _("Saisissez une date entre le %(a)s et le %(b)s.") % {"a": self.earliest.strftime("%d/%m/%Y"),
                                                                       "b": self.latest.strftime("%d/%m/%Y")},
                code="out_of_range")


class ShortListChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices of a short list (a household's children) read with one plain query, once per form:
    Django's iterator opens a server-side cursor for them (DECLARE … WITH HOLD, FETCH, CLOSE: three round
    trips and a materialised result, to read three rows)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():  # a fresh queryset, evaluated as one list
            yield self.choice(obj)


class ShortListChoiceField(forms.ModelChoiceField):
    """A choice of one row among a few (the agent's children, his employers): rendered without a
    server-side cursor."""

    iterator = ShortListChoiceIterator
