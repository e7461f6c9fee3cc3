"""The staff's admin of adhesions, by sub-domain (each module registers its models)."""

from adhesions.admin import contributions, payments, roster, structures

__all__ = ["contributions", "payments", "roster", "structures"]
