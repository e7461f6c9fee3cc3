"""Changes of state of people; each in one transaction, each audited."""

import datetime

from django.db import transaction

from accounts.models import Agent, FamilyMember, TaxDeclaration
from cnas import audit


def _snapshot(member: FamilyMember) -> dict[str, str]:
    return {
        "lien": member.relation,
        "prénom": member.first_name,
        "nom": member.last_name,
        "naissance": member.birth_date.isoformat(),
        "arrivée au foyer": member.adoption_date.isoformat() if member.adoption_date else "",
        "à charge": "oui" if member.is_dependent else "non",
    }


@transaction.atomic
def add_family_member(
    *, actor, agent: Agent, relation: str, first_name: str, last_name: str,
    birth_date: datetime.date, is_dependent: bool = True, adoption_date: datetime.date | None = None,
) -> FamilyMember:
    member = FamilyMember(
        agent=agent, relation=relation, first_name=first_name.strip(), last_name=last_name.strip(),
        birth_date=birth_date, adoption_date=adoption_date, is_dependent=is_dependent,
    )
    member.full_clean()
    member.save()
    audit.record(actor=actor, action="household.add", target=agent, changes=_snapshot(member))
    return member


@transaction.atomic
def update_family_member(
    *, actor, member: FamilyMember, relation: str, first_name: str, last_name: str,
    birth_date: datetime.date, is_dependent: bool, adoption_date: datetime.date | None = None,
) -> FamilyMember:
    member = FamilyMember.objects.select_for_update().get(pk=member.pk)
    before = _snapshot(member)
    member.relation = relation
    member.first_name = first_name.strip()
    member.last_name = last_name.strip()
    member.birth_date = birth_date
    member.adoption_date = adoption_date
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


@transaction.atomic
def update_bank_details(*, actor, agent: Agent, iban: str, bic: str) -> Agent:
    from stdnum import bic as bic_number
    from stdnum import iban as iban_number

    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    before = (agent.iban, agent.bic)
    agent.iban = iban_number.compact(iban) if iban else ""
    agent.bic = bic_number.compact(bic) if bic else ""
    agent.full_clean(exclude=["user"])
    agent.save(update_fields=["iban", "bic", "updated_at"])
    if before != (agent.iban, agent.bic):
        audit.record(actor=actor, action="agent.bank_details", target=agent,
                     changes={"IBAN": f"…{agent.iban[-4:]}" if agent.iban else ""})
    return agent


@transaction.atomic
def declare_tax(*, actor, agent: Agent, year: int, reference_income, shares, notice) -> TaxDeclaration:
    declaration, _created = TaxDeclaration.objects.update_or_create(
        agent=agent, year=year,
        defaults={"reference_income": reference_income, "shares": shares, "notice": notice})
    audit.record(actor=actor, action="agent.tax", target=agent,
                 changes={"année": year, "QF": str(declaration.family_quotient)})
    return declaration
