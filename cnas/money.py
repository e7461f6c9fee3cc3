"""Money: Decimal with two places, rounded half-up once, formatted the French way."""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import format_currency

CENT = Decimal("0.01")


def round_cents(amount: Decimal) -> Decimal:
    """Round half-up to the cent; call it once, at the end of a computation."""
    if isinstance(amount, float):
        raise TypeError("Money is never a float: pass a Decimal.")
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def format_euros(amount: Decimal | int | None) -> str:
    """1234.5 -> '1 234,50 €' (narrow no-break spaces, as French typography wants)."""
    if amount is None:
        return ""
    return _formatted(Decimal(amount))


@lru_cache(maxsize=4096)
def _formatted(amount: Decimal) -> str:  # babel takes ~0.2 ms a call; pages show the same amounts again and again
    return format_currency(amount, "EUR", locale="fr_FR")
