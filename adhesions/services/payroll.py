"""Payroll declarations: declared by correspondents, corrected by staff, never edited."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.models import (
    Adherent,
    PayrollDeclaration,
)
from adhesions.services._common import _user
from cnas import audit
from cnas.money import round_cents


@transaction.atomic
def declare_payroll(*, actor, adherent: Adherent, year: int, gross_payroll: Decimal, working_headcount: int,
                    retired_headcount: int, reason: str = "", is_correction: bool = False) -> PayrollDeclaration:
    """A new declaration for the year; it replaces the one before, which stays in the history.
    A correction by the national body's staff must give its reason."""
    if is_correction and not reason.strip():
        raise ValidationError({"reason": _("Une correction doit être motivée.")})
    previous = PayrollDeclaration.objects.filter(adherent=adherent, year=year).order_by("-declared_at").first()
    declaration = PayrollDeclaration(
        adherent=adherent, year=year, gross_payroll=round_cents(Decimal(gross_payroll)),
        working_headcount=working_headcount, retired_headcount=retired_headcount, declared_by=_user(actor),
        is_correction=is_correction, reason=reason.strip(),
    )
    declaration.full_clean()
    declaration.save()
    changes = {"année": year, "masse salariale": str(declaration.gross_payroll),
               "actifs": working_headcount, "retraités": retired_headcount}
    if previous:
        declared = timezone.localtime(previous.declared_at)
        changes["remplace"] = f"{previous.gross_payroll} € déclarés le {declared:%d/%m/%Y}"
    audit.record(actor=actor, action="payroll.correct" if is_correction else "payroll.declare", target=adherent,
                 reason=reason, changes=changes)
    return declaration
