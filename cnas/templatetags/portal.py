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
def tel_uri(phone):
    """{{ "04 72 00 12 34"|tel_uri }} -> tel:+33472001234 (a French number dialled from anywhere)."""
    digits = "".join(c for c in str(phone or "") if c.isdigit() or c == "+")
    if len(digits) == 10 and digits.startswith("0"):
        digits = "+33" + digits[1:]
    return f"tel:{digits}" if digits else ""


@register.simple_tag
def absolute_url(viewname, *args):
    """{% absolute_url "espace:demande" demande.pk %}: a link for an e-mail, on the portal's address
    (SITE_URL), never the request's (cnas.links)."""
    from cnas.links import absolute_reverse

    return absolute_reverse(viewname, *args)


@register.filter
def amount_input(amount):
    """{{ amount|amount_input }} -> 150,00: an amount as a money field reads it back."""
    from cnas.forms import MoneyField

    return MoneyField().prepare_value(amount)
