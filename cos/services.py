"""Changes of state in a COS: members, fees, conventions, local actions and registrations.
One transaction each, audited; e-mails leave after the commit."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Agent, FamilyMember
from adhesions.coverage import sync_adherent_coverage
from adhesions.models import Adherent, Coverage, Employment
from adhesions.services.structures import open_adhesion
from cnas import audit, outbox
from cnas.links import absolute_reverse
from cos.coverage import sync_cos_coverage
from cos.models import (
    Convention,
    CosEmployer,
    CosMember,
    LocalAction,
    MemberFee,
    Participant,
    Registration,
)


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def served_employer_ids(cos: Adherent) -> list[int]:
    return list(CosEmployer.objects.filter(cos=cos).values_list("employer_id", flat=True))


# --- Members and fees -----------------------------------------------------------------------

@transaction.atomic
def add_member(*, actor, cos: Adherent, agent: Agent, joined_on: datetime.date) -> CosMember:
    """An agent of an employer the COS serves joins it."""
    if not Employment.objects.filter(agent=agent, employer_id__in=served_employer_ids(cos),
                                     end_date__isnull=True).exists():
        raise ValidationError(_("Cet agent ne travaille pas chez un employeur servi par l'association."))
    if CosMember.objects.filter(cos=cos, agent=agent, left_on__isnull=True).exists():
        raise ValidationError(_("Cet agent est déjà membre."))
    if joined_on > timezone.localdate():
        raise ValidationError({"joined_on": _("La date d'adhésion ne peut pas être dans le futur.")})
    member = CosMember.objects.create(cos=cos, agent=agent, joined_on=joined_on)
    sync_cos_coverage(cos=cos, agent_ids=[agent.pk])
    audit.record(actor=actor, action="cos.member_add", target=member, changes={"depuis": joined_on.isoformat()})
    return member


@transaction.atomic
def record_fee(*, actor, member: CosMember, year: int, amount: Decimal, paid_on: datetime.date,
               means: str) -> MemberFee:
    """The fee of the year (joining again for the year): its member is covered all year."""
    if MemberFee.objects.filter(member=member, year=year).exists():
        raise ValidationError(_("La cotisation %(year)s de ce membre est déjà enregistrée.") % {"year": year})
    if amount < 0:
        raise ValidationError({"amount": _("Le montant ne peut pas être négatif.")})
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("La date de paiement ne peut pas être dans le futur.")})
    fee = MemberFee.objects.create(member=member, year=year, amount=amount, paid_on=paid_on, means=means,
                                   recorded_by=_user(actor))
    sync_cos_coverage(cos=member.cos, agent_ids=[member.agent_id])
    audit.record(actor=actor, action="cos.fee", target=member, changes={"année": year, "montant": str(amount)})
    return fee


@transaction.atomic
def end_membership(*, actor, member: CosMember, left_on: datetime.date, reason: str = "") -> CosMember:
    member = CosMember.objects.select_for_update().get(pk=member.pk)
    if member.left_on is not None:
        raise ValidationError(_("Ce membre est déjà parti."))
    if left_on < member.joined_on:
        raise ValidationError({"left_on": _("La date de départ précède l'adhésion.")})
    member.left_on, member.left_reason = left_on, reason.strip()[:200]
    member.save(update_fields=["left_on", "left_reason"])
    sync_cos_coverage(cos=member.cos, agent_ids=[member.agent_id])
    audit.record(actor=actor, action="cos.member_end", target=member, reason=reason,
                 changes={"départ": left_on.isoformat()})
    return member


def sync_all_cos_coverage(*, today: datetime.date | None = None) -> int:
    """Beat, daily: fee deadlines pass, coverage follows."""
    changed = 0
    for cos in Adherent.objects.filter(kind="cos"):
        with transaction.atomic():
            changed += sync_cos_coverage(cos=cos, today=today)
    return changed


# --- Employers and conventions --------------------------------------------------------------

@transaction.atomic
def add_served_employer(*, actor, cos: Adherent, employer: Adherent) -> CosEmployer:
    """Staff record that the COS serves this employer's staff: its agents may then join."""
    if not cos.is_cos or employer.is_cos:
        raise ValidationError(_("Un COS sert un employeur (collectivité ou établissement public)."))
    link, created = CosEmployer.objects.get_or_create(cos=cos, employer=employer)
    if created:
        audit.record(actor=actor, action="cos.serve", target=cos, changes={"employeur": employer.name})
    return link


@transaction.atomic
def remove_served_employer(*, actor, link: CosEmployer) -> None:
    if CosMember.objects.filter(cos=link.cos, left_on__isnull=True,
                                agent__employments__employer=link.employer,
                                agent__employments__end_date__isnull=True).exists():
        raise ValidationError(_("Des membres du COS travaillent encore chez cet employeur : enregistrez d'abord "
                                "leur départ."))
    audit.record(actor=actor, action="cos.unserve", target=link.cos, changes={"employeur": link.employer.name})
    link.delete()


@transaction.atomic
def update_cos_settings(*, actor, settings_row, fee_amount: Decimal, fee_deadline_month: int,
                        fee_deadline_day: int) -> int:
    """The COS's yearly fee and its deadline; its members' coverage follows at once."""
    from cos.models import CosSettings

    row = CosSettings.objects.select_for_update().get(pk=settings_row.pk)
    before = {"cotisation": str(row.fee_amount), "échéance": f"{row.fee_deadline_day:02d}/{row.fee_deadline_month:02d}"}
    row.fee_amount, row.fee_deadline_month, row.fee_deadline_day = fee_amount, fee_deadline_month, fee_deadline_day
    row.full_clean()
    row.save()
    after = {"cotisation": str(row.fee_amount), "échéance": f"{row.fee_deadline_day:02d}/{row.fee_deadline_month:02d}"}
    changed = sync_cos_coverage(cos=row.cos)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if changes:
        audit.record(actor=actor, action="cos.settings", target=row.cos, changes={**changes,
                                                                                  "membres recalculés": changed})
    return changed

@transaction.atomic
def sign_convention(*, actor, cos: Adherent, employer: Adherent, signed_on: datetime.date, start_date: datetime.date,
                    signed_pdf) -> Convention:
    """From its start, the employer's contribution covers all its agents on the roster; the COS
    stops paying for those of its members."""
    if employer.pk not in served_employer_ids(cos):
        raise ValidationError({"employer": _("L'association ne sert pas cet employeur.")})
    if Convention.objects.filter(cos=cos, employer=employer, end_date__isnull=True).exists():
        raise ValidationError(_("Une convention est déjà en cours avec cet employeur."))
    convention = Convention.objects.create(cos=cos, employer=employer, signed_on=signed_on, start_date=start_date,
                                           signed_pdf=signed_pdf, created_by=_user(actor))
    if not employer.adhesions.active_on(start_date).exists():
        open_adhesion(actor=actor, adherent=employer, start_date=start_date, covers_retired=False,
                      reason=_("Convention tripartite avec %(cos)s") % {"cos": cos.name})
    else:
        sync_adherent_coverage(employer=employer)
    sync_cos_coverage(cos=cos)
    audit.record(actor=actor, action="cos.convention", target=convention,
                 changes={"employeur": employer.name, "effet": start_date.isoformat()})
    return convention


def compliance(*, cos: Adherent, day: datetime.date | None = None) -> list[dict]:
    """Per employer served: agents on the roster, covered, not covered (law of 19 February 2007:
    social action for all of an employer's agents)."""
    day = day or timezone.localdate()
    rows = []
    for link in CosEmployer.objects.filter(cos=cos).select_related("employer"):
        roster = Employment.objects.filter(employer=link.employer).on(day).values("agent_id")
        total = roster.count()
        covered = (Coverage.objects.on(day).filter(agent_id__in=roster).values("agent_id").distinct().count())
        rows.append({"employer": link.employer, "roster": total, "covered": covered, "uncovered": total - covered,
                     "convention": Convention.objects.filter(cos=cos, employer=link.employer,
                                                             start_date__lte=day).exclude(end_date__lt=day).first()})
    return rows


# --- Local actions and registrations ---------------------------------------------------------

@transaction.atomic
def create_action(*, actor, cos: Adherent, title: str, starts_at: datetime.datetime, place: str, capacity: int,
                  registration_deadline: datetime.date, price_adult: Decimal = Decimal("0"),
                  price_child: Decimal = Decimal("0"), description: str = "", is_published: bool = False
                  ) -> LocalAction:
    """A local action of the COS (Christmas tree, bus trip…), published or kept as a draft."""
    action = LocalAction(cos=cos, title=title.strip(), description=description.strip(), starts_at=starts_at,
                         place=place.strip(), capacity=capacity, price_adult=price_adult, price_child=price_child,
                         registration_deadline=registration_deadline, is_published=is_published)
    action.full_clean()
    if registration_deadline > timezone.localtime(starts_at).date():
        raise ValidationError({"registration_deadline": _("Les inscriptions doivent se clore avant l'action.")})
    action.save()
    audit.record(actor=actor, action="cos.action_create", target=action,
                 changes={"titre": action.title, "places": capacity, "prix adulte": str(price_adult),
                          "prix enfant": str(price_child)})
    return action


def _confirmed_seats(action: LocalAction) -> int:
    return action.registrations.filter(status=Registration.Status.CONFIRMED).aggregate(
        n=Sum("seats"))["n"] or 0


class NotEnoughSeats(ValidationError):
    """Fewer seats are left than people registered: register fewer, or wait together."""

    def __init__(self, *, left: int, wanted: int):
        self.left, self.wanted = left, wanted
        super().__init__(
            ngettext("Il reste %(left)s place pour les %(wanted)s personnes que vous inscrivez : inscrivez-en moins, "
                     "ou attendez ensemble sur la liste d'attente.",
                     "Il reste %(left)s places pour les %(wanted)s personnes que vous inscrivez : inscrivez-en moins, "
                     "ou attendez ensemble sur la liste d'attente.", left) % {"left": left, "wanted": wanted},
            code="not_enough_seats")


@transaction.atomic
def register(*, actor, action: LocalAction, member: CosMember, family_member_ids: list[int],
             include_member: bool = True, wait_as_group: bool = False) -> Registration:
    """Seats are never given beyond the capacity, however many register at once: the action's row
    is locked while the seats are counted. A household that fits is confirmed; when the action is full
    it waits in line; when some seats are left but fewer than it needs, it is told how many
    (`NotEnoughSeats`) and chooses: fewer people, or ``wait_as_group`` (all together, or none)."""
    action = LocalAction.objects.select_for_update().get(pk=action.pk)
    today = timezone.localdate()
    if not action.is_published or action.registration_deadline < today:
        raise ValidationError(_("Les inscriptions sont closes."))
    if member.cos_id != action.cos_id or member.left_on is not None:
        raise ValidationError(_("Cette action est réservée aux membres de l'association."))
    family = list(FamilyMember.objects.filter(agent_id=member.agent_id, pk__in=family_member_ids))
    if len(family) != len(set(family_member_ids)):
        raise ValidationError(_("Choisissez des membres de votre foyer."))
    seats = len(family) + (1 if include_member else 0)
    if seats == 0:
        raise ValidationError(_("Inscrivez au moins une personne."))
    if Registration.objects.filter(action=action, member=member).exclude(status=Registration.Status.CANCELLED
                                                                        ).exists():
        raise ValidationError(_("Vous êtes déjà inscrit(e) à cette action."))
    if seats > action.capacity:  # such a group could never be promoted: it does not wait
        raise ValidationError(ngettext(
            "Cette action compte %(n)s place en tout : inscrivez au plus %(n)s personne.",
            "Cette action compte %(n)s places en tout : inscrivez au plus %(n)s personnes.",
            action.capacity) % {"n": action.capacity})
    left = action.capacity - _confirmed_seats(action)
    if seats <= left:
        status = Registration.Status.CONFIRMED
    elif left == 0 or wait_as_group:
        status = Registration.Status.WAITING
    else:
        raise NotEnoughSeats(left=left, wanted=seats)
    children = sum(1 for f in family if f.relation == FamilyMember.Relation.CHILD)
    amount = action.price_adult * (seats - children) + action.price_child * children
    registration = Registration.objects.create(action=action, member=member, status=status, seats=seats,
                                               amount=amount)
    Participant.objects.bulk_create(
        ([Participant(registration=registration)] if include_member else [])
        + [Participant(registration=registration, family_member=f,
                       is_child=f.relation == FamilyMember.Relation.CHILD) for f in family])
    audit.record(actor=actor, action="cos.register", target=registration,
                 changes={"places": seats, "statut": status})
    return registration


@transaction.atomic
def cancel_registration(*, actor, registration: Registration) -> list[Registration]:
    """Cancel (a confirmed seat or a place in line), then promote who fits from the waiting list."""
    action = LocalAction.objects.select_for_update().get(pk=registration.action_id)
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    if registration.status == Registration.Status.CANCELLED:
        return []
    registration.status = Registration.Status.CANCELLED
    registration.save(update_fields=["status"])
    audit.record(actor=actor, action="cos.cancel", target=registration)
    return _promote(action)


def _promote(action: LocalAction) -> list[Registration]:
    """In order of registration, confirm each waiting group whose seats fit in the seats left. A group
    that does not fit yet is skipped and keeps its rank: it comes first when enough seats free up.
    The caller holds the action's row lock."""
    promoted = []
    left = action.capacity - _confirmed_seats(action)
    for waiting in action.registrations.filter(status=Registration.Status.WAITING).select_related(
            "member__agent__user").order_by("created_at", "id"):
        if left == 0:
            break
        if waiting.seats > left:
            continue
        waiting.status = Registration.Status.CONFIRMED
        waiting.save(update_fields=["status"])
        left -= waiting.seats
        promoted.append(waiting)
        audit.record(actor=None, action="cos.promote", target=waiting)
        _tell_promoted(waiting, action)
    return promoted


def waiting_rank(registration: Registration) -> int | None:
    """1 for the first group in line, and so on; None when the registration is not waiting."""
    if registration.status != Registration.Status.WAITING:
        return None
    ahead = Registration.objects.filter(action_id=registration.action_id, status=Registration.Status.WAITING)
    return ahead.filter(Q(created_at__lt=registration.created_at)
                        | Q(created_at=registration.created_at, id__lt=registration.id)).count() + 1


RELEASE_SALT = "cos.registration.release"


def release_token(registration: Registration) -> str:
    """The link's token by which the member gives up his seat without logging in."""
    return signing.dumps(registration.pk, salt=RELEASE_SALT, compress=True)


def registration_from_token(token: str) -> Registration | None:
    try:
        pk = signing.loads(token, salt=RELEASE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(pk, int):
        return None
    return Registration.objects.select_related("action__cos", "member__agent__user").filter(pk=pk).first()


def _tell_promoted(registration: Registration, action: LocalAction) -> None:
    agent = registration.member.agent
    email = agent.user.email if agent.user_id else agent.email
    if not email:
        return
    context = {"registration": registration, "action": action, "portal": settings.PORTAL_NAME,
               "link": absolute_reverse("espace:actions"),
               "release_link": absolute_reverse("espace:action_release", release_token(registration))}
    subject = render_to_string("cos/email/promoted_subject.txt", context).strip()
    body = render_to_string("cos/email/promoted_body.txt", context)
    outbox.enqueue("cnas.tasks.send_email", subject=subject, body=body, to=[email])


@transaction.atomic
def set_attendance(*, actor, action: LocalAction, present_ids: set[int]) -> int:
    participants = Participant.objects.filter(registration__action=action,
                                              registration__status=Registration.Status.CONFIRMED)
    participants.update(attended=False)
    count = participants.filter(pk__in=present_ids).update(attended=True)
    audit.record(actor=actor, action="cos.attendance", target=action, changes={"présents": count})
    return count


# --- Importing members ----------------------------------------------------------------------

def _member_plan(record, *, today):
    from cos.member_import import build_member_plan

    with record.file.open("rb") as handle:
        data = handle.read()
    return build_member_plan(cos=record.adherent, data=data, filename=record.original_name,
                             employer_ids=served_employer_ids(record.adherent), today=today)


@transaction.atomic
def upload_member_file(*, actor, cos: Adherent, uploaded):
    """Store the file and its preview (COS files are small: checked at once)."""
    from adhesions.models import RosterImport
    from adhesions.roster_file import RosterFileError
    from cnas.private_files import sha256_of

    record = RosterImport.objects.create(adherent=cos, kind=RosterImport.Kind.COS_MEMBERS, uploaded_by=_user(actor),
                                         original_name=uploaded.name[:255], sha256=sha256_of(uploaded),
                                         size=uploaded.size, file=uploaded)
    try:
        plan = _member_plan(record, today=timezone.localdate())
    except RosterFileError as exc:
        record.status, record.error_count = RosterImport.Status.INVALID, 1
        record.errors = [{"line": None, "column": "", "value": "", "message": str(exc)}]
    else:
        counts = plan.counts
        record.created_count, record.updated_count = counts["created"], counts["updated"]
        record.unchanged_count, record.error_count = counts["unchanged"], counts["errors"]
        record.errors, record.preview = [e.as_dict() for e in plan.errors[:2000]], plan.preview()
        record.status = RosterImport.Status.INVALID if plan.errors else RosterImport.Status.READY
    record.save()
    audit.record(actor=actor, action="cos.member_import_upload", target=record)
    return record


@transaction.atomic
def apply_member_file(*, actor, record):
    """All of it or none of it, with the plan computed again now."""
    from adhesions.models import RosterImport
    from cos.models import CosMember

    record = RosterImport.objects.select_for_update().select_related("adherent").get(pk=record.pk)
    if record.status != RosterImport.Status.READY or record.kind != RosterImport.Kind.COS_MEMBERS:
        raise ValidationError(_("Cet import ne peut pas être appliqué (%(s)s).") % {"s": record.get_status_display()})
    plan = _member_plan(record, today=timezone.localdate())
    if plan.errors:
        raise ValidationError(_("Les membres ont changé depuis la vérification : déposez le fichier à nouveau."))
    cos = record.adherent
    for line in plan.lines:
        agent = Agent.objects.get(pk=line.agent_id)
        member = (add_member(actor=actor, cos=cos, agent=agent, joined_on=line.joined_on) if line.is_new
                  else CosMember.objects.get(cos=cos, agent=agent, left_on__isnull=True))
        if line.fee is not None:
            record_fee(actor=actor, member=member, year=line.paid_on.year, amount=line.fee, paid_on=line.paid_on,
                       means=MemberFee.Means.TRANSFER)
    record.status, record.applied_at, record.applied_by = RosterImport.Status.APPLIED, timezone.now(), _user(actor)
    record.save(update_fields=["status", "applied_at", "applied_by"])
    audit.record(actor=actor, action="cos.member_import_apply", target=record, changes=plan.counts)
    return record
