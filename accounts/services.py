"""Changes of state of people; each in one transaction, each audited."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Agent, FamilyMember, StaffProfile, TaxDeclaration, User
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
    from django.db.models import ProtectedError

    agent = member.agent
    snapshot = _snapshot(member)
    try:
        with transaction.atomic():
            member.delete()
    except ProtectedError as exc:  # a request or a registration concerns this person
        raise ValidationError(_("%(name)s est concerné(e) par une demande ou une inscription : cette personne "
                                "reste dans votre foyer.") % {"name": member.first_name}) from exc
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
                     changes={"IBAN": [mask_iban(before[0]), mask_iban(agent.iban)], "BIC": [before[1], agent.bic]})
    return agent


def mask_iban(iban: str) -> str:
    """FR7630006000011234567890189 -> FR76 •••• 0189: enough to see that it changed, not to use it."""
    return f"{iban[:4]} •••• {iban[-4:]}" if iban else ""


@transaction.atomic
def declare_tax(*, actor, agent: Agent, year: int, reference_income, shares, notice) -> TaxDeclaration:
    declaration, _created = TaxDeclaration.objects.update_or_create(
        agent=agent, year=year,
        defaults={"reference_income": reference_income, "shares": shares, "notice": notice})
    audit.record(actor=actor, action="agent.tax", target=agent,
                 changes={"année": year, "QF": str(declaration.family_quotient)})
    return declaration


# --- Staff accounts and their rights -------------------------------------------------------------
# Only the holder of accounts.manage_staff (the Administrateur role) changes them, never his own,
# never a superuser's (made with createsuperuser), and never beyond his own scope.

def _check_staff_manager(actor, *, target=None) -> None:
    from django.core.exceptions import PermissionDenied

    if not actor.has_perm("accounts.manage_staff"):
        raise PermissionDenied(_("Seul un administrateur gère les comptes de l'équipe."))
    if target is not None and target.pk == actor.pk:
        raise ValidationError(_("Personne ne modifie ses propres droits : demandez-le à un autre administrateur."))
    if target is not None and target.is_superuser and not actor.is_superuser:
        raise ValidationError(_("Un super-administrateur ne se gère pas depuis l'administration."))


def _check_grant(actor, *, roles, region, is_national: bool) -> None:
    from accounts.roles import ROLES_BY_NAME
    from accounts.scope import staff_scope

    unknown = [group.name for group in roles if group.name not in ROLES_BY_NAME]
    if unknown:
        raise ValidationError({"roles": _("Rôle inconnu : %(names)s.") % {"names": ", ".join(unknown)}})
    scope = staff_scope(actor)
    if is_national and not scope.national:
        raise ValidationError({"is_national": _("Vous ne pouvez pas donner une portée nationale que vous n'avez pas.")})
    if region is not None and not scope.allows_region(region.pk):
        raise ValidationError({"region": _("Vous ne pouvez pas donner accès à une autre délégation que la vôtre.")})


def _rights_of(user) -> dict:
    profile = getattr(user, "staff_profile", None) if user.pk else None
    return {"rôles": sorted(g.name for g in user.groups.all()) if user.pk else [],
            "actif": user.is_active, "délégation": str(profile.region) if profile and profile.region else "",
            "national": bool(profile and profile.is_national)}


@transaction.atomic
def create_staff_account(*, actor, email: str, first_name: str, last_name: str, password: str, roles,
                         region=None, is_national: bool = False, job_title: str = "") -> User:
    """A member of staff, with his roles and his scope; he enrols his second factor at first login."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.password_validation import validate_password

    _check_staff_manager(actor)
    _check_grant(actor, roles=roles, region=region, is_national=is_national)
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": _("Un compte existe déjà pour cette adresse.")})
    user = User(email=email, first_name=first_name.strip(), last_name=last_name.strip(), is_staff=True)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    StaffProfile.objects.create(user=user, region=region, is_national=is_national, job_title=job_title.strip())
    user.groups.set(roles)
    audit.record(actor=actor, action="staff.create", target=user, changes=_rights_of(user))
    return user


@transaction.atomic
def update_staff_account(*, actor, user: User, roles, is_active: bool, region=None, is_national: bool = False,
                         first_name: str | None = None, last_name: str | None = None, job_title: str = "") -> User:
    """Roles, activity and scope of a member of staff (the old and new values are audited)."""
    _check_staff_manager(actor, target=user)
    _check_grant(actor, roles=roles, region=region, is_national=is_national)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _rights_of(user)
    if first_name is not None:
        user.first_name, user.last_name = first_name.strip(), (last_name or "").strip()
    user.is_active, user.is_staff = is_active, True
    user.save(update_fields=["first_name", "last_name", "is_active", "is_staff"])
    StaffProfile.objects.update_or_create(user=user, defaults={"region": region, "is_national": is_national,
                                                               "job_title": job_title.strip()})
    user.groups.set(roles)
    user.user_permissions.clear()  # rights come from roles only
    after = _rights_of(User.objects.get(pk=user.pk))
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit.record(actor=actor, action="staff.rights", target=user, changes=changes)
    return user
