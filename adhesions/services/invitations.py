"""Invitations by e-mail and self-registration of agents."""

import datetime

from django.conf import settings
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agent
from adhesions.models import (
    Adherent,
    Employment,
    Invitation,
    Manager,
)
from adhesions.selectors import roster_changed
from adhesions.services._common import _user
from adhesions.services.structures import appoint_manager
from cnas import audit, outbox
from cnas.links import absolute_reverse

INVITATION_SALT = "adhesions.invitation"


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(invitation.pk, salt=INVITATION_SALT)


def invitation_from_token(token: str) -> Invitation | None:
    """The invitation a link designates, or None if the link is forged or expired."""
    try:
        pk = signing.loads(token, salt=INVITATION_SALT, max_age=datetime.timedelta(
            days=settings.INVITATION_MAX_AGE_DAYS))
    except signing.BadSignature:
        return None
    return Invitation.objects.select_related("adherent", "agent").filter(pk=pk).first()


def _send_on_commit(ids: list[int]) -> None:

    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        outbox.enqueue("adhesions.tasks.send_invitations", invitation_ids=chunk)


def _agent_roster_changed(agent: Agent) -> None:
    """An agent now has an account: the rosters he is on count one fewer agent to invite."""
    for employer_id in set(Employment.objects.filter(agent=agent).values_list("employer_id", flat=True)):
        roster_changed(employer_id)


def invitable_agents(adherent: Adherent):
    """Agents on the roster today, with an e-mail and no account yet (at most one open line per agent
    and employer: no DISTINCT needed)."""
    return Agent.objects.filter(employments__employer=adherent, employments__end_date__isnull=True,
                                user__isnull=True).exclude(email="")


@transaction.atomic
def invite_agent(*, actor, adherent: Adherent, agent: Agent) -> Invitation:
    if not invitable_agents(adherent).filter(pk=agent.pk).exists():
        raise ValidationError(_("Cet agent ne peut pas être invité : il lui faut une adresse e-mail, un emploi en "
                                "cours et pas encore de compte."))
    invitation = Invitation.objects.create(adherent=adherent, kind=Invitation.Kind.AGENT, agent=agent,
                                           email=agent.email, invited_by=_user(actor))
    audit.record(actor=actor, action="invitation.agent", target=invitation, changes={"e-mail": agent.email})
    _send_on_commit([invitation.pk])
    return invitation


@transaction.atomic
def invite_all_agents(*, actor, adherent: Adherent) -> int:
    """Invite every agent who can be and was not invited in the last seven days."""
    recent = Invitation.objects.filter(adherent=adherent, kind=Invitation.Kind.AGENT, accepted_at__isnull=True,
                                       created_at__gte=timezone.now() - datetime.timedelta(days=7))
    agents = invitable_agents(adherent).exclude(pk__in=recent.values("agent_id")).values_list("pk", "email")
    invitations = Invitation.objects.bulk_create([
        Invitation(adherent=adherent, kind=Invitation.Kind.AGENT, agent_id=pk, email=email,
                   invited_by=_user(actor)) for pk, email in agents
    ], batch_size=2000)
    if invitations:
        audit.record(actor=actor, action="invitation.agents", target=adherent,
                     changes={"invitations": len(invitations)})
        _send_on_commit([i.pk for i in invitations])
    return len(invitations)


@transaction.atomic
def invite_correspondent(*, actor, adherent: Adherent, email: str) -> Invitation:
    email = email.strip().lower()
    if Manager.objects.filter(adherent=adherent, user__email__iexact=email).exists():
        raise ValidationError({"email": _("Cette personne est déjà correspondante de la structure.")})
    invitation = Invitation.objects.create(adherent=adherent, kind=Invitation.Kind.CORRESPONDENT, email=email,
                                           invited_by=_user(actor))
    audit.record(actor=actor, action="invitation.correspondent", target=invitation, changes={"e-mail": email})
    _send_on_commit([invitation.pk])
    return invitation


def send_invitations(*, invitation_ids: list[int]) -> int:
    """Worker side: send the e-mails not sent yet (a second run sends nothing)."""
    sent = 0
    for invitation in Invitation.objects.filter(pk__in=invitation_ids, sent_at__isnull=True,
                                                accepted_at__isnull=True).select_related("adherent", "agent"):
        link = absolute_reverse("invitation", invitation_token(invitation))
        context = {"invitation": invitation, "link": link, "days": settings.INVITATION_MAX_AGE_DAYS,
                   "portal": settings.PORTAL_NAME}
        subject = render_to_string("adhesions/email/invitation_subject.txt", context).strip()
        body = render_to_string("adhesions/email/invitation_body.txt", context)
        with transaction.atomic():
            claimed = Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=timezone.now())
            if claimed:
                mail.send_mail(subject, body, None, [invitation.email])
                sent += 1
    return sent


@transaction.atomic
def accept_invitation(*, user, invitation: Invitation) -> Invitation:
    """Tie the account to the agent, or make it a correspondent of the adherent."""
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related("adherent").get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ValidationError(_("Cette invitation a déjà été utilisée."))
    if invitation.kind == Invitation.Kind.AGENT:
        agent = Agent.objects.select_for_update().get(pk=invitation.agent_id)
        if agent.user_id and agent.user_id != user.pk:
            raise ValidationError(_("Ce dossier d'agent est déjà rattaché à un autre compte."))
        if Agent.objects.filter(user=user).exclude(pk=agent.pk).exists():
            raise ValidationError(_("Votre compte est déjà rattaché à un autre dossier d'agent."))
        agent.user = user
        agent.save(update_fields=["user", "updated_at"])
        _agent_roster_changed(agent)
    else:  # the manager of an employer is its correspondent; of a COS, its administrator
        role = Manager.Role.COS_ADMIN if invitation.adherent.is_cos else Manager.Role.CORRESPONDENT
        appoint_manager(actor=user, user=user, adherent=invitation.adherent, role=role)
    invitation.accepted_at, invitation.accepted_by = timezone.now(), user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit.record(actor=user, action="invitation.accept", target=invitation)
    return invitation


@transaction.atomic
def create_invited_user(*, invitation: Invitation, password: str):
    """An account for the invited address, verified since the link reached that mailbox."""
    from allauth.account.models import EmailAddress

    from accounts.models import User

    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(_("Un compte existe déjà pour cette adresse : connectez-vous pour accepter."))
    user = User.objects.create_user(email=invitation.email, password=password,
                                    first_name=invitation.agent.first_name if invitation.agent else "",
                                    last_name=invitation.agent.last_name if invitation.agent else "")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    accept_invitation(user=user, invitation=invitation)
    return user


def find_agent_to_attach(*, siret: str, employee_number: str, birth_date: datetime.date) -> Agent | None:
    """Self-registration: the one agent these three facts designate, if he has no account."""
    lines = Employment.objects.filter(employer__siret=siret, employee_number=employee_number.strip(),
                                      agent__birth_date=birth_date, agent__user__isnull=True)
    agent_ids = set(lines.values_list("agent_id", flat=True)[:2])
    return Agent.objects.get(pk=agent_ids.pop()) if len(agent_ids) == 1 else None


@transaction.atomic
def attach_agent(*, user, agent: Agent) -> Agent:
    agent = Agent.objects.select_for_update().get(pk=agent.pk)
    if agent.user_id or Agent.objects.filter(user=user).exists():
        raise ValidationError(_("Ce rattachement n'est pas possible."))
    agent.user = user
    agent.save(update_fields=["user", "updated_at"])
    _agent_roster_changed(agent)
    audit.record(actor=user, action="agent.self_attach", target=agent)
    return agent
