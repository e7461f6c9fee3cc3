from django import template

from cnas.money import format_euros

register = template.Library()


@register.filter
def euros(amount):
    """{{ amount|euros }} -> 1 234,50 €"""
    return format_euros(amount)
