"""Changes of state of people; each in one transaction, each audited."""

import datetime

from django.db import transaction

from accounts.models import Agent, FamilyMember
from cnas import audit


def _snapshot(member: FamilyMember) -> dict[str, str]:
    return {
        "lien": member.relation,
        "prénom": member.first_name,
        "nom": member.last_name,
        "naissance": member.birth_date.isoformat(),
        "à charge": "oui" if member.is_dependent else "non",
    }


@transaction.atomic
def add_family_member(
    *, actor, agent: Agent, relation: str, first_name: str, last_name: str,
    birth_date: datetime.date, is_dependent: bool = True,
) -> FamilyMember:
    member = FamilyMember(
        agent=agent, relation=relation, first_name=first_name.strip(), last_name=last_name.strip(),
        birth_date=birth_date, is_dependent=is_dependent,
    )
    member.full_clean()
    member.save()
    audit.record(actor=actor, action="household.add", target=agent, changes=_snapshot(member))
    return member


@transaction.atomic
def update_family_member(
    *, actor, member: FamilyMember, relation: str, first_name: str, last_name: str,
    birth_date: datetime.date, is_dependent: bool,
) -> FamilyMember:
    member = FamilyMember.objects.select_for_update().get(pk=member.pk)
    before = _snapshot(member)
    member.relation = relation
    member.first_name = first_name.strip()
    member.last_name = last_name.strip()
    member.birth_date = birth_date
    member.is_dependent = is_dependent
    member.full_clean()
    member.save()
    after = _snapshot(member)
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changed:
        audit.record(actor=actor, action="household.update", target=member.agent, changes=changed)
    return member


@transaction.atomic
def remove_family_member(*, actor, member: FamilyMember, reason: str = "") -> None:
    agent = member.agent
    snapshot = _snapshot(member)
    member.delete()
    audit.record(actor=actor, action="household.remove", target=agent, reason=reason, changes=snapshot)
