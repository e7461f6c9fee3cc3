"""Changes of state of adherents, rosters and coverage: one transaction each, audited."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core import mail, signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agent, AgentStatus
from adhesions.contributions import compute, insert_calls
from adhesions.coverage import sync_coverage
from adhesions.models import (
    Adherent,
    Adhesion,
    BankStatement,
    Campaign,
    CampaignChunk,
    ContributionCall,
    ContributionScale,
    Employment,
    Invitation,
    Manager,
    MembershipApplication,
    Payment,
    PayrollDeclaration,
    Reminder,
    RosterImport,
    check_manager_role,
)
from adhesions.roster_file import RosterFileError, parse_table
from adhesions.roster_plan import FIELD_LABELS, Plan, apply_plan, build_plan
from adhesions.statements import read_statement
from cnas import audit
from cnas.money import round_cents
from cnas.pdf import render_pdf
from cnas.private_files import sha256_of


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
def register_employment(*, actor, agent, employer: Adherent, employee_number: str,
                        start_date: datetime.date) -> Employment:
    """Put ``agent`` on ``employer``'s roster; covered from then if the employer adheres."""
    employment = Employment(agent=agent, employer=employer, employee_number=employee_number.strip(),
                            start_date=start_date)
    employment.full_clean()
    employment.save()
    audit.record(actor=actor, action="employment.register", target=employment,
                 changes={"employeur": employer.name, "matricule": employment.employee_number,
                          "entrée": start_date.isoformat()})
    sync_coverage(employer=employer, agent_ids=[agent.pk])
    return employment


# --- The roster -----------------------------------------------------------------------------

def _roster_lock(adherent: Adherent) -> None:
    """One change of an adherent's roster at a time (imports and edits alike)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROSTER_LOCK_NAMESPACE, adherent.pk])


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
                        **identity) -> Employment:
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
        audit.record(actor=actor, action="roster.update", target=employment, changes=changed)
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


# --- Roster imports -------------------------------------------------------------------------

MAX_ROSTER_FILE_SIZE = 10 * 1024 * 1024


@transaction.atomic
def create_roster_import(*, actor, adherent: Adherent, uploaded, is_complete: bool) -> RosterImport:
    """Record the upload and have the worker check it (after the commit)."""
    if uploaded.size > MAX_ROSTER_FILE_SIZE:
        raise ValidationError(_("Le fichier dépasse 10 Mo."))
    record = RosterImport.objects.create(
        adherent=adherent, uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        original_name=uploaded.name[:255], sha256=sha256_of(uploaded), size=uploaded.size,
        is_complete=is_complete, file=uploaded,
    )
    audit.record(actor=actor, action="roster_import.upload", target=record,
                 changes={"fichier": record.original_name, "complet": is_complete})
    from adhesions import tasks

    transaction.on_commit(lambda: tasks.check_roster_import.delay(record.pk))
    return record


def plan_for(record: RosterImport, *, today: datetime.date | None = None) -> Plan:
    """Read the stored file and compare it with the roster; RosterFileError if unreadable."""
    today = today or timezone.localdate()
    with record.file.open("rb") as handle:
        data = handle.read()
    table = parse_table(data, record.original_name, today=today)
    return build_plan(adherent=record.adherent, table=table, is_complete=record.is_complete, today=today)


def _progress(record: RosterImport, pct: int) -> None:
    cache.set(record.progress_key, pct, timeout=3600)


def check_roster_import(*, import_id: int) -> RosterImport:
    """Worker side: compute the preview and the errors. Safe to run twice."""
    with transaction.atomic():
        record = RosterImport.objects.select_for_update().get(pk=import_id)
        if record.status not in (RosterImport.Status.PENDING, RosterImport.Status.CHECKING):
            return record
        record.status = RosterImport.Status.CHECKING
        record.save(update_fields=["status"])
    _progress(record, 10)
    try:
        plan = plan_for(record)
    except RosterFileError as exc:
        record.status, record.errors, record.error_count = RosterImport.Status.INVALID, [
            {"line": None, "column": "", "value": "", "message": str(exc)}], 1
        record.save(update_fields=["status", "errors", "error_count"])
        _progress(record, 100)
        return record
    counts = plan.counts
    record.line_count = counts["created"] + counts["updated"] + counts["unchanged"] + len(
        {e.line for e in plan.errors})
    record.created_count, record.updated_count = counts["created"], counts["updated"]
    record.closed_count, record.unchanged_count, record.error_count = counts["closed"], counts["unchanged"], counts[
        "errors"]
    record.errors = [e.as_dict() for e in plan.errors[:2000]]
    record.preview = plan.preview()
    record.status = RosterImport.Status.INVALID if plan.errors else RosterImport.Status.READY
    record.save()
    _progress(record, 100)
    return record


@transaction.atomic
def confirm_roster_import(*, actor, record: RosterImport) -> RosterImport:
    """The correspondent confirms: the worker writes it. A second click changes nothing."""
    record = RosterImport.objects.select_for_update().get(pk=record.pk)
    if record.status != RosterImport.Status.READY:
        return record
    record.status = RosterImport.Status.APPLYING
    record.applied_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save(update_fields=["status", "applied_by"])
    audit.record(actor=actor, action="roster_import.confirm", target=record)
    from adhesions import tasks

    transaction.on_commit(lambda: tasks.apply_roster_import.delay(record.pk))
    return record


@transaction.atomic
def cancel_roster_import(*, actor, record: RosterImport) -> RosterImport:
    record = RosterImport.objects.select_for_update().get(pk=record.pk)
    if record.status in (RosterImport.Status.READY, RosterImport.Status.INVALID):
        record.status = RosterImport.Status.CANCELLED
        record.save(update_fields=["status"])
        audit.record(actor=actor, action="roster_import.cancel", target=record)
    return record


def apply_roster_import(*, import_id: int) -> RosterImport:
    """Worker side: write the file, all of it or none of it. Safe to run twice."""
    try:
        with transaction.atomic():
            record = RosterImport.objects.select_for_update().select_related("adherent").get(pk=import_id)
            if record.status != RosterImport.Status.APPLYING:
                return record
            _roster_lock(record.adherent)
            plan = plan_for(record)  # again, against the roster as it is now
            if plan.errors:
                raise RosterChanged(plan)
            counts = apply_plan(actor=record.applied_by, adherent=record.adherent, plan=plan,
                                reason=f"Import du fichier {record.original_name}",
                                progress=lambda pct: _progress(record, pct))
            record.created_count, record.updated_count = counts["created"], counts["updated"]
            record.closed_count, record.unchanged_count = counts["closed"], counts["unchanged"]
            record.status, record.applied_at = RosterImport.Status.APPLIED, timezone.now()
            record.save()
            audit.record(actor=record.applied_by, action="roster_import.apply", target=record,
                         changes={k: v for k, v in counts.items() if k != "errors"})
    except RosterChanged as exc:
        RosterImport.objects.filter(pk=import_id).update(
            status=RosterImport.Status.INVALID, error_count=len(exc.plan.errors),
            errors=[e.as_dict() for e in exc.plan.errors[:2000]],
            failure=_("L'effectif a changé depuis la vérification : déposez le fichier à nouveau."))
    except RosterFileError as exc:
        RosterImport.objects.filter(pk=import_id).update(status=RosterImport.Status.FAILED, failure=str(exc))
    record = RosterImport.objects.get(pk=import_id)
    _progress(record, 100)
    return record


class RosterChanged(Exception):
    def __init__(self, plan: Plan):
        super().__init__("roster changed since the check")
        self.plan = plan


def import_roster_now(*, actor, adherent: Adherent, data: bytes, filename: str, is_complete: bool,
                      apply: bool) -> tuple[Plan, dict | None]:
    """The command line's path: check, and with ``apply`` write all or nothing, at once."""
    today = timezone.localdate()
    table = parse_table(data, filename, today=today)
    plan = build_plan(adherent=adherent, table=table, is_complete=is_complete, today=today)
    if not apply or plan.errors:
        return plan, None
    with transaction.atomic():
        _roster_lock(adherent)
        plan = build_plan(adherent=adherent, table=table, is_complete=is_complete, today=today)
        if plan.errors:
            return plan, None
        counts = apply_plan(actor=actor, adherent=adherent, plan=plan,
                            reason=f"Import en ligne de commande ({filename})")
        audit.record(actor=actor, action="roster_import.command", target=adherent,
                     changes={"fichier": filename, **{k: v for k, v in counts.items() if k != "errors"}})
    return plan, counts


# --- Invitations and self-registration ------------------------------------------------------

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
    from adhesions import tasks

    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        transaction.on_commit(lambda chunk=chunk: tasks.send_invitations.delay(chunk))


def invitable_agents(adherent: Adherent):
    """Agents on the roster today, with an e-mail and no account yet."""
    return Agent.objects.filter(employments__employer=adherent, employments__end_date__isnull=True,
                                user__isnull=True).exclude(email="").distinct()


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
        link = settings.SITE_URL.rstrip("/") + reverse("invitation", args=[invitation_token(invitation)])
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
    audit.record(actor=user, action="agent.self_attach", target=agent)
    return agent


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Payroll declarations -------------------------------------------------------------------

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


# --- Joining --------------------------------------------------------------------------------

@transaction.atomic
def submit_application(**fields) -> MembershipApplication:
    application = MembershipApplication(**fields)
    application.full_clean()
    application.save()
    audit.record(actor=None, action="application.submit", target=application,
                 changes={"siret": application.siret, "contact": application.contact_email})
    return application


@transaction.atomic
def approve_application(*, actor, application: MembershipApplication) -> Adherent:
    """Create the adherent and its adhesion, and invite the contact as first correspondent."""
    application = MembershipApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != MembershipApplication.Status.PENDING:
        raise ValidationError(_("Cette demande a déjà été décidée."))
    if application.region_id is None:
        raise ValidationError(_("Choisissez la délégation régionale avant d'approuver."))
    if Adherent.objects.filter(siret=application.siret).exists():
        raise ValidationError(_("Un adhérent porte déjà ce SIRET."))
    adherent = Adherent(
        name=application.name, kind=application.kind, category=application.category, siret=application.siret,
        region_id=application.region_id, address=application.address, postcode=application.postcode,
        city=application.city, email=application.contact_email, phone=application.contact_phone,
    )
    adherent.full_clean()
    adherent.save()
    Adhesion.objects.create(adherent=adherent, start_date=application.start_date, status=Adhesion.Status.ACTIVE,
                            covers_retired=application.covers_retired)
    application.status, application.adherent = MembershipApplication.Status.APPROVED, adherent
    application.decided_at, application.decided_by = timezone.now(), _user(actor)
    application.save()
    audit.record(actor=actor, action="application.approve", target=application)
    audit.record(actor=actor, action="adherent.create", target=adherent, reason="Demande d'adhésion approuvée")
    invitation = Invitation.objects.create(adherent=adherent, kind=Invitation.Kind.CORRESPONDENT,
                                           email=application.contact_email.lower(), invited_by=_user(actor))
    _send_on_commit([invitation.pk])
    return adherent


@transaction.atomic
def reject_application(*, actor, application: MembershipApplication, reason: str) -> MembershipApplication:
    application = MembershipApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != MembershipApplication.Status.PENDING:
        raise ValidationError(_("Cette demande a déjà été décidée."))
    if not reason.strip():
        raise ValidationError(_("Un refus doit être motivé."))
    application.status, application.decision_reason = MembershipApplication.Status.REJECTED, reason.strip()
    application.decided_at, application.decided_by = timezone.now(), _user(actor)
    application.save()
    audit.record(actor=actor, action="application.reject", target=application, reason=reason)
    return application


# --- Contributions --------------------------------------------------------------------------

CHUNK_SIZE = 100


@transaction.atomic
def start_campaign(*, actor, scale: ContributionScale) -> Campaign:
    """Start (or resume) the campaign of the scale's year on the worker. Running it again
    issues only the calls not issued yet: a call, once issued, never changes."""
    campaign, created = Campaign.objects.select_for_update().get_or_create(
        scale=scale, defaults={"started_by": _user(actor)})
    if not created:
        campaign.status = Campaign.Status.COMPUTING
        campaign.finished_at = None
        campaign.save(update_fields=["status", "finished_at"])
    audit.record(actor=actor, action="campaign.start" if created else "campaign.restart", target=campaign)
    from adhesions import tasks

    transaction.on_commit(lambda: tasks.compute_campaign.delay(campaign.pk))
    return campaign


def compute_campaign(*, campaign_id: int, issued_on: datetime.date | None = None) -> list[int]:
    """Worker side: issue the calls in one statement and cut them into chunks; return the
    chunks to render. Safe to run twice."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().select_related("scale").get(pk=campaign_id)
        if campaign.status == Campaign.Status.COMPUTING:
            insert_calls(campaign.scale, campaign_id=campaign.pk, issued_on=issued_on or timezone.localdate())
            covered = list(CampaignChunk.objects.filter(campaign=campaign).values_list("last_call_id", flat=True))
            after = max(covered, default=0)
            ids = list(ContributionCall.objects.filter(campaign=campaign, id__gt=after).order_by("id")
                       .values_list("id", flat=True))
            start = CampaignChunk.objects.filter(campaign=campaign).count()
            CampaignChunk.objects.bulk_create([
                CampaignChunk(campaign=campaign, index=start + n, first_call_id=chunk[0], last_call_id=chunk[-1])
                for n, chunk in enumerate(ids[i:i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE))
            ])
            campaign.computed_count = ContributionCall.objects.filter(campaign=campaign).count()
            campaign.status, campaign.computed_at = Campaign.Status.RENDERING, timezone.now()
            campaign.save(update_fields=["computed_count", "status", "computed_at"])
        pending = list(campaign.chunks.exclude(status=CampaignChunk.Status.DONE).values_list("id", flat=True))
    if not pending:
        finish_campaign(campaign_id=campaign_id)
    return pending


def render_call(call: ContributionCall) -> None:
    """Render and store one call's PDF; call it with the row locked and no PDF yet."""
    scale = ContributionScale.objects.filter(year=call.year).first()
    content = render_pdf("adhesions/pdf/call.html", {"call": call, "adherent": call.adherent, "scale": scale})
    call.pdf.save(f"{call.reference}.pdf", ContentFile(content), save=False)
    call.render_count = F("render_count") + 1
    call.save(update_fields=["pdf", "render_count"])


def render_chunk(*, chunk_id: int) -> str:
    """Worker side: render the PDFs of one chunk, each call in its own transaction, each
    call exactly once whoever else runs the same chunk (row locks, SKIP LOCKED)."""
    with transaction.atomic():
        chunk = CampaignChunk.objects.select_for_update().get(pk=chunk_id)
        if chunk.status == CampaignChunk.Status.DONE:
            return chunk.status
        chunk.status, chunk.attempts, chunk.error = CampaignChunk.Status.RUNNING, chunk.attempts + 1, ""
        chunk.save(update_fields=["status", "attempts", "error", "updated_at"])
    try:
        while True:
            with transaction.atomic():
                call = (ContributionCall.objects.select_for_update(skip_locked=True, of=("self",))
                        .select_related("adherent", "regularises")
                        .filter(campaign_id=chunk.campaign_id, id__gte=chunk.first_call_id,
                                id__lte=chunk.last_call_id, pdf="").order_by("id").first())
                if call is None:
                    break
                render_call(call)
    except Exception as exc:  # the chunk is marked failed, to be retried alone from the admin
        CampaignChunk.objects.filter(pk=chunk_id).update(status=CampaignChunk.Status.FAILED,
                                                         error=f"{type(exc).__name__}: {exc}"[:2000])
        finish_campaign(campaign_id=chunk.campaign_id)
        raise
    left = ContributionCall.objects.filter(campaign_id=chunk.campaign_id, id__gte=chunk.first_call_id,
                                           id__lte=chunk.last_call_id, pdf="").exists()
    if not left:
        CampaignChunk.objects.filter(pk=chunk_id).update(status=CampaignChunk.Status.DONE)
        finish_campaign(campaign_id=chunk.campaign_id)
    return CampaignChunk.Status.DONE if not left else CampaignChunk.Status.RUNNING


def finish_campaign(*, campaign_id: int) -> None:
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status != Campaign.Status.RENDERING:
            return
        states = set(campaign.chunks.values_list("status", flat=True))
        if states & {CampaignChunk.Status.PENDING, CampaignChunk.Status.RUNNING}:
            return
        campaign.status = Campaign.Status.FAILED if CampaignChunk.Status.FAILED in states else Campaign.Status.DONE
        campaign.finished_at = timezone.now()
        campaign.save(update_fields=["status", "finished_at"])


@transaction.atomic
def retry_failed_chunks(*, actor, campaign: Campaign) -> int:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    failed = list(campaign.chunks.filter(status=CampaignChunk.Status.FAILED).values_list("id", flat=True))
    if failed:
        CampaignChunk.objects.filter(pk__in=failed).update(status=CampaignChunk.Status.PENDING)
        campaign.status, campaign.finished_at = Campaign.Status.RENDERING, None
        campaign.save(update_fields=["status", "finished_at"])
        audit.record(actor=actor, action="campaign.retry", target=campaign, changes={"lots": len(failed)})
        from adhesions import tasks

        transaction.on_commit(lambda: [tasks.render_chunk.delay(pk) for pk in failed])
    return len(failed)


def resume_unfinished_campaigns(*, idle_for: datetime.timedelta | None = None) -> int:
    """Put unfinished campaigns back on their way: at a worker's start (everything left), and
    from beat (only what has not moved for ``idle_for``). Nothing done is done again."""
    from adhesions import tasks

    resumed = 0
    for campaign in Campaign.objects.filter(status__in=[Campaign.Status.COMPUTING, Campaign.Status.RENDERING]):
        if campaign.status == Campaign.Status.COMPUTING:
            tasks.compute_campaign.delay(campaign.pk)
            resumed += 1
            continue
        chunks = campaign.chunks.filter(status__in=[CampaignChunk.Status.PENDING, CampaignChunk.Status.RUNNING])
        if idle_for is not None:
            chunks = chunks.filter(updated_at__lt=timezone.now() - idle_for)
        for chunk_id in chunks.values_list("id", flat=True):
            tasks.render_chunk.delay(chunk_id)
            resumed += 1
    return resumed


def run_campaign_now(*, actor, scale: ContributionScale, progress=lambda text: None,
                     issued_on: datetime.date | None = None) -> Campaign:
    """The command line's path: the same steps as the worker, one after the other
    (``issued_on`` lets the demo world date its campaign from January)."""
    with transaction.atomic():
        campaign, created = Campaign.objects.get_or_create(scale=scale, defaults={"started_by": _user(actor)})
        if not created:
            Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.COMPUTING, finished_at=None)
        audit.record(actor=actor, action="campaign.command", target=campaign)
    chunks = compute_campaign(campaign_id=campaign.pk, issued_on=issued_on)
    progress(f"{Campaign.objects.get(pk=campaign.pk).computed_count} appels calculés, {len(chunks)} lots à éditer")
    for number, chunk_id in enumerate(chunks, start=1):
        render_chunk(chunk_id=chunk_id)
        progress(f"lot {number}/{len(chunks)} édité")
    campaign.refresh_from_db()
    return campaign


@transaction.atomic
def regularise(*, actor, adherent: Adherent, year: int, reason: str = "") -> ContributionCall:
    """Recompute what the adherent owes for the year with today's data and issue the
    difference with what was already called: a positive call or a credit."""
    scale = ContributionScale.objects.get(year=year)
    calls = list(ContributionCall.objects.select_for_update().filter(adherent=adherent, year=year).order_by("id"))
    initial = next((c for c in calls if c.kind == ContributionCall.Kind.INITIAL), None)
    if initial is None:
        raise ValidationError(_("Aucun appel %(year)s n'a encore été émis pour cet adhérent.") % {"year": year})
    computed = next(iter(compute(scale, adherent_id=adherent.pk)), None)
    due = computed.amount if computed else Decimal("0.00")
    difference = due - sum((c.amount for c in calls), Decimal("0.00"))
    if difference == 0:
        raise ValidationError(_("Rien à régulariser : les appels émis correspondent aux données actuelles."))
    number = sum(1 for c in calls if c.kind == ContributionCall.Kind.REGULARISATION) + 1
    call = ContributionCall.objects.create(
        adherent=adherent, year=year, kind=ContributionCall.Kind.REGULARISATION, regularises=initial,
        reference=f"R{year}-{adherent.pk:06d}-{number}", due_date=max(scale.due_date, timezone.localdate()
                                                                       + datetime.timedelta(days=30)),
        payroll=computed.payroll if computed else None, payroll_year=year - 1 if not adherent.is_cos else None,
        working_agents=computed.working if computed else 0, retired_agents=computed.retired if computed else 0,
        covered_agents=computed.covered if computed else 0, months=computed.months if computed else 0,
        bound=computed.bound if computed else "", amount=difference,
        details={"recomputed": str(due), "already_called": str(due - difference),
                 "agents_part": str(round_cents(computed.agents_part)) if computed else "0",
                 "retired_part": str(round_cents(computed.retired_part)) if computed else "0"},
    )
    audit.record(actor=actor, action="call.regularise", target=call, reason=reason,
                 changes={"dû": str(due), "déjà appelé": str(due - difference), "régularisation": str(difference)})
    from adhesions import tasks

    transaction.on_commit(lambda: tasks.render_single_call.delay(call.pk))
    return call


def render_single_call(*, call_id: int) -> None:
    with transaction.atomic():
        call = (ContributionCall.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("adherent", "regularises").filter(pk=call_id, pdf="").first())
        if call is not None:
            render_call(call)


@transaction.atomic
def record_payment(*, actor, call: ContributionCall, amount: Decimal, paid_on: datetime.date,
                   means: str = Payment.Means.TRANSFER, bank_reference: str = "",
                   statement_line: str | None = None) -> Payment:
    if amount == 0:
        raise ValidationError({"amount": _("Un paiement ne peut pas être nul.")})
    payment = Payment.objects.create(call=call, amount=round_cents(Decimal(amount)), paid_on=paid_on, means=means,
                                     bank_reference=bank_reference[:140], statement_line=statement_line,
                                     recorded_by=_user(actor))
    audit.record(actor=actor, action="payment.record", target=call,
                 changes={"montant": str(payment.amount), "date": paid_on.isoformat(), "moyen": means})
    return payment


@transaction.atomic
def import_statement(*, actor, uploaded) -> BankStatement:
    """Match each credit line to a call by its reference; lines already recorded are
    skipped, the others are listed for staff. A bad file records nothing."""
    data = uploaded.read()
    fmt, lines = read_statement(data, uploaded.name)
    uploaded.seek(0)
    statement = BankStatement.objects.create(file=uploaded, original_name=uploaded.name[:255], format=fmt,
                                             uploaded_by=_user(actor), line_count=len(lines))
    known = set(Payment.objects.filter(statement_line__in=[line.line_id for line in lines])
                .values_list("statement_line", flat=True))
    references = {line.reference for line in lines if line.reference}
    calls = {c.reference: c for c in ContributionCall.objects.filter(reference__in=references)}
    unmatched = []
    for line in lines:
        if line.line_id in known:
            statement.already_count += 1
            continue
        call = calls.get(line.reference or "")
        reason = (_("débit") if line.amount <= 0 else _("référence absente du libellé") if not line.reference
                  else _("référence inconnue") if call is None else "")
        if reason:
            unmatched.append({"date": line.booked_on.strftime("%d/%m/%Y"), "amount": str(line.amount),
                              "text": line.text[:300], "reason": str(reason)})
            continue
        record_payment(actor=actor, call=call, amount=line.amount, paid_on=line.booked_on,
                       bank_reference=line.text, statement_line=line.line_id)
        statement.matched_count += 1
    statement.unmatched = unmatched
    statement.save(update_fields=["matched_count", "already_count", "unmatched"])
    audit.record(actor=actor, action="statement.import", target=statement,
                 changes={"lignes": len(lines), "rapprochées": statement.matched_count,
                          "non rapprochées": len(unmatched)})
    return statement


REMINDER_LEVELS = ((1, 15), (2, 30))


def send_reminders(*, today: datetime.date | None = None) -> int:
    """Beat, daily: remind adherents of unpaid calls at due date + 15 and + 30 days. Each
    reminder is sent once (a unique row per call and level), however often this runs."""
    today = today or timezone.localdate()
    sent = 0
    for level, days in REMINDER_LEVELS:
        calls = (ContributionCall.objects.with_balance().filter(balance__gt=0,
                                                                due_date__lte=today - datetime.timedelta(days=days))
                 .exclude(reminders__level=level).select_related("adherent"))
        for call in calls:
            with transaction.atomic():
                _reminder, created = Reminder.objects.get_or_create(call=call, level=level,
                                                                   defaults={"balance": call.balance})
                if not created:
                    continue
                recipients = sorted({m.user.email for m in call.adherent.managers.select_related("user")}
                                    | ({call.adherent.email} if call.adherent.email else set()))
                context = {"call": call, "level": level, "balance": call.balance, "days": days,
                           "portal": settings.PORTAL_NAME, "site": settings.SITE_URL}
                subject = render_to_string("adhesions/email/reminder_subject.txt", context).strip()
                body = render_to_string("adhesions/email/reminder_body.txt", context)
                if recipients:
                    transaction.on_commit(lambda s=subject, b=body, r=recipients: mail.send_mail(s, b, None, r))
                audit.record(actor=None, action=f"call.reminder{level}", target=call,
                             changes={"solde": str(call.balance)})
                sent += 1
    return sent
