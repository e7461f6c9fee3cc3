"""The one money field: amounts as French people type them, and nothing else."""

from decimal import Decimal

import pytest
from django import forms
from hypothesis import given
from hypothesis import strategies as st

from cnas.forms import MoneyField, parse_amount
from cnas.money import format_euros


@pytest.mark.parametrize("typed, amount", [
    ("5,50", "5.50"), ("5.50", "5.50"), ("5", "5"), ("1 234,56", "1234.56"), ("1 234,56 €", "1234.56"),
    ("1\u202f234,56\xa0€", "1234.56"), ("1.234,56", "1234.56"), ("1.234.567,89", "1234567.89"),
    ("1234567.89", "1234567.89"), ("-12,30", "-12.30"), ("€12", "12"), ("0,05", "0.05"),
])
def test_french_and_plain_amounts(typed, amount):
    assert parse_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "-inf", "1e309", "1e20", "²", "٣", "5,5,5", "1.23.4",
                                   "12,", ",5", ".5", "5.", "abc", "--5", "5-", "1,234.56", "0x10"])
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError):
        parse_amount(typed)


@pytest.mark.parametrize("typed, message", [
    ("NaN", "Saisissez un montant en euros"), ("1e20", "Saisissez un montant en euros"),
    ("99999999999,99", "chiffres au total"), ("12,345", "après la virgule"), ("-5", "supérieure ou égale à 0"),
])
def test_the_field_says_why_in_french(typed, message):
    with pytest.raises(forms.ValidationError) as refused:
        MoneyField(min_value=0).clean(typed)
    assert message in " ".join(refused.value.messages)


@given(st.decimals(min_value=0, max_value=Decimal("9999999999.99"), places=2))
def test_every_amount_written_the_french_way_reads_back(amount):
    assert MoneyField().clean(format_euros(amount)) == amount
    assert MoneyField().clean(f"{amount:f}".replace(".", ",")) == amount
    assert MoneyField().clean(f"{amount:f}") == amount
    assert MoneyField().prepare_value(amount) == f"{amount:f}".replace(".", ",")
