"""Changes of state of adherents, rosters and coverage: one transaction each, audited."""

import datetime

from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateRange

from adhesions.models import Adherent, Coverage, Employment, Manager, check_manager_role
from cnas import audit


@transaction.atomic
def appoint_manager(*, actor, user, adherent: Adherent, role: str) -> Manager:
    """Make ``user`` a correspondent (employer) or a COS administrator (COS) of ``adherent``."""
    check_manager_role(adherent=adherent, role=role)
    manager, created = Manager.objects.get_or_create(user=user, adherent=adherent, role=role)
    if created:
        audit.record(actor=actor, action="manager.appoint", target=adherent,
                     changes={"utilisateur": user.email, "rôle": role})
    return manager


@transaction.atomic
def open_coverage(*, actor, agent, adherent: Adherent, start: datetime.date, source: str,
                  end: datetime.date | None = None, reason: str = "") -> Coverage:
    """Cover ``agent`` through ``adherent`` from ``start`` (to ``end`` included, or open)."""
    upper = end + datetime.timedelta(days=1) if end else None
    coverage = Coverage.objects.create(agent=agent, adherent=adherent, source=source,
                                       period=DateRange(start, upper, "[)"))
    audit.record(actor=actor, action="coverage.open", target=agent, reason=reason,
                 changes={"adhérent": adherent.name, "du": start.isoformat(),
                          "au": end.isoformat() if end else "", "origine": source})
    return coverage


@transaction.atomic
def register_employment(*, actor, agent, employer: Adherent, employee_number: str,
                        start_date: datetime.date) -> Employment:
    """Put ``agent`` on ``employer``'s roster; covered from then if the employer adheres."""
    employment = Employment(agent=agent, employer=employer, employee_number=employee_number.strip(),
                            start_date=start_date)
    employment.full_clean()
    employment.save()
    audit.record(actor=actor, action="employment.register", target=agent,
                 changes={"employeur": employer.name, "matricule": employment.employee_number,
                          "entrée": start_date.isoformat()})
    adhesion = employer.current_adhesion(start_date) or employer.adhesions.filter(
        status="active", start_date__gt=start_date).order_by("start_date").first()
    if adhesion is not None:
        open_coverage(actor=actor, agent=agent, adherent=employer,
                      start=max(start_date, adhesion.start_date), source=Coverage.Source.EMPLOYMENT)
    return employment
