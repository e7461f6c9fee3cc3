from django import template

from cnas.money import format_euros

register = template.Library()


@register.filter
def euros(amount):
    """{{ amount|euros }} -> 1 234,50 €"""
    return format_euros(amount)


@register.filter
def change(value):
    """An audit change: [old, new] -> 'old → new'; anything else as it is."""
    if isinstance(value, list | tuple) and len(value) == 2:
        return f"{value[0] if value[0] not in (None, '') else '—'} → {value[1] if value[1] not in (None, '') else '—'}"
    return value


@register.filter
def abs_euros(amount):
    """{{ -12.5|abs_euros }} -> 12,50 € (a credit said in words, its amount without the sign)."""
    return format_euros(abs(amount)) if amount is not None else ""


@register.simple_tag
def idempotency_field():
    """{% idempotency_field %}: the hidden key that makes a double click create one thing."""
    from django.utils.html import format_html

    from cnas.idempotency import FIELD, new_key

    return format_html('<input type="hidden" name="{}" value="{}">', FIELD, new_key())


@register.filter
def amount_input(amount):
    """{{ amount|amount_input }} -> 150,00: an amount as a money field reads it back."""
    from cnas.forms import MoneyField

    return MoneyField().prepare_value(amount)
