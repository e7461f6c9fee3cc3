"""The roster: hiring, correcting and ending employments; coverage follows."""

import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from accounts.models import Agent, AgentStatus
from adhesions.coverage import sync_coverage
from adhesions.models import (
    Adherent,
    Employment,
)
from adhesions.roster_plan import FIELD_LABELS
from adhesions.selectors import roster_changed
from cnas import audit


@transaction.atomic
def register_employment(*, actor, agent, employer: Adherent, employee_number: str,
                        start_date: datetime.date) -> Employment:
    """Put ``agent`` on ``employer``'s roster; covered from then if the employer adheres."""
    employment = Employment(agent=agent, employer=employer, employee_number=employee_number.strip(),
                            start_date=start_date)
    employment.full_clean()
    employment.save()
    roster_changed(employer.pk)
    audit.record(actor=actor, action="employment.register", target=employment,
                 changes={"employeur": employer.name, "matricule": employment.employee_number,
                          "entrée": start_date.isoformat()})
    sync_coverage(employer=employer, agent_ids=[agent.pk])
    return employment


def _roster_lock(adherent: Adherent) -> None:
    """One change of an adherent's roster at a time (imports and edits alike); its cached counts
    are renewed when the change commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROSTER_LOCK_NAMESPACE, adherent.pk])
    roster_changed(adherent.pk)


ROSTER_LOCK_NAMESPACE = 4201


@transaction.atomic
def hire_agent(*, actor, employer: Adherent, employee_number: str, start_date: datetime.date,
               last_name: str, first_name: str, birth_date: datetime.date, **identity) -> Employment:
    """Add a new agent to ``employer``'s roster; covered from then if the employer adheres."""
    _roster_lock(employer)
    number = employee_number.strip()
    if Employment.objects.filter(employer=employer, employee_number=number, end_date__isnull=True).exists():
        raise ValidationError({"employee_number": _("Ce matricule est déjà attribué à un agent en poste.")})
    agent = Agent(last_name=last_name.strip(), first_name=first_name.strip(), birth_date=birth_date, **identity)
    agent.full_clean()
    agent.save()
    employment = Employment(agent=agent, employer=employer, employee_number=number, start_date=start_date)
    employment.full_clean(exclude=["agent"])
    employment.save()
    sync_coverage(employer=employer, agent_ids=[agent.pk])
    audit.record(actor=actor, action="roster.hire", target=employment,
                 changes={"employeur": employer.name, "matricule": number, "entrée": start_date.isoformat()})
    return employment


@transaction.atomic
def update_roster_entry(*, actor, employment: Employment, employee_number: str, start_date: datetime.date,
                        reason: str = "", **identity) -> Employment:
    """Correct an agent's identity and employment on the roster (audited field by field)."""
    employer = employment.employer
    _roster_lock(employer)
    employment = Employment.objects.select_for_update().select_related("agent").get(pk=employment.pk)
    agent = employment.agent
    number = employee_number.strip()
    if number != employment.employee_number and Employment.objects.filter(
            employer=employer, employee_number=number, end_date__isnull=True).exclude(pk=employment.pk).exists():
        raise ValidationError({"employee_number": _("Ce matricule est déjà attribué à un agent en poste.")})
    before = {**{k: getattr(agent, k) for k in identity}, "employee_number": employment.employee_number,
              "start_date": employment.start_date}
    for name, value in identity.items():
        setattr(agent, name, value.strip() if isinstance(value, str) else value)
    employment.employee_number, employment.start_date = number, start_date
    if employment.end_date and start_date > employment.end_date:
        raise ValidationError({"start_date": _("La date d'entrée ne peut pas suivre la date de sortie.")})
    agent.full_clean()
    employment.full_clean(exclude=["agent"])
    agent.save()
    employment.save()
    after = {**{k: getattr(agent, k) for k in identity}, "employee_number": number, "start_date": start_date}
    changed = {FIELD_LABELS.get(k, k): [_iso(before[k]), _iso(after[k])] for k in after if before[k] != after[k]}
    if changed:
        sync_coverage(employer=employer, agent_ids=[agent.pk])
        audit.record(actor=actor, action="roster.update", target=employment, changes=changed, reason=reason)
    return employment


@transaction.atomic
def end_employment(*, actor, employment: Employment, end_date: datetime.date, reason: str,
                   comment: str = "") -> Employment:
    """The agent leaves ``employment``'s employer. Retirement turns the agent to retired and
    keeps coverage where the adhesion covers retired staff; any other reason ends it."""
    employer = employment.employer
    _roster_lock(employer)
    employment = Employment.objects.select_for_update().select_related("agent").get(pk=employment.pk)
    if employment.end_date is not None:
        raise ValidationError(_("Cet emploi est déjà terminé depuis le %(date)s.") % {
            "date": employment.end_date.strftime("%d/%m/%Y")})
    if end_date < employment.start_date:
        raise ValidationError({"end_date": _("La date de sortie précède la date d'entrée.")})
    if reason not in Employment.EndReason.values:
        raise ValidationError({"reason": _("Motif de sortie inconnu.")})
    employment.end_date, employment.end_reason = end_date, reason
    employment.save(update_fields=["end_date", "end_reason"])
    agent = employment.agent
    if reason == Employment.EndReason.RETIREMENT and agent.status != AgentStatus.RETIRED:
        agent.status = AgentStatus.RETIRED
        agent.save(update_fields=["status", "updated_at"])
    sync_coverage(employer=employer, agent_ids=[agent.pk])
    audit.record(actor=actor, action="roster.end", target=employment, reason=comment,
                 changes={"employeur": employer.name, "sortie": end_date.isoformat(),
                          "motif": str(Employment.EndReason(reason).label)})
    return employment


def _iso(value):
    return value.isoformat() if isinstance(value, datetime.date) else value
