"""The staff's admin of adhesions, by sub-domain (each module registers its models)."""

from adhesions.admin import contact, contributions, payments, roster, structures

__all__ = ["contact", "contributions", "payments", "roster", "structures"]
