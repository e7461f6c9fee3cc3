"""Member structures: joining applications, adhesions and their managers."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.coverage import recompute_adherent
from adhesions.models import (
    Adherent,
    Adhesion,
    Invitation,
    Manager,
    MembershipApplication,
    check_manager_role,
)
from adhesions.services._common import _user
from adhesions.services.roster import _roster_lock
from cnas import audit

ADHERENT_FIELDS = ("name", "kind", "category", "siret", "region", "address", "postcode", "city", "email", "phone")


def _value(value):
    return str(value) if value is not None and not isinstance(value, str | bool | int) else value


@transaction.atomic
def create_adherent(*, actor, name: str, kind: str, category: str, siret: str, region, address: str = "",
                    postcode: str = "", city: str = "", email: str = "", phone: str = "") -> Adherent:
    """A member structure's identity (staff, in the admin); it adheres once an adhesion is opened."""
    adherent = Adherent(name=name.strip(), kind=kind, category=category, siret=siret.replace(" ", ""),
                        region=region, address=address.strip(), postcode=postcode.strip(), city=city.strip(),
                        email=email.strip(), phone=phone.strip())
    adherent.full_clean()
    adherent.save()
    audit.record(actor=actor, action="adherent.create", target=adherent,
                 changes={field: _value(getattr(adherent, field)) for field in ADHERENT_FIELDS})
    return adherent


@transaction.atomic
def update_adherent(*, actor, adherent: Adherent, **fields) -> Adherent:
    """Correct a structure's identity; each changed field is audited with its old and new value."""
    adherent = Adherent.objects.select_for_update().get(pk=adherent.pk)
    unknown = set(fields) - set(ADHERENT_FIELDS)
    if unknown:
        raise ValueError(f"not an adherent's field: {sorted(unknown)}")
    before = {field: getattr(adherent, field) for field in fields}
    for field, value in fields.items():
        setattr(adherent, field, value.strip() if isinstance(value, str) else value)
    adherent.full_clean()
    adherent.save()
    changes = {field: [_value(before[field]), _value(getattr(adherent, field))] for field in fields
               if before[field] != getattr(adherent, field)}
    if changes:
        audit.record(actor=actor, action="adherent.update", target=adherent, changes=changes)
    return adherent


@transaction.atomic
def remove_manager(*, actor, manager: Manager, reason: str) -> None:
    """The person no longer manages the structure (a correspondent leaves, an administrator is replaced)."""
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif.")})
    adherent = manager.adherent
    audit.record(actor=actor, action="manager.remove", target=adherent, reason=reason,
                 changes={"utilisateur": manager.user.email, "rôle": manager.role})
    manager.delete()


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
def submit_application(**fields) -> MembershipApplication:
    application = MembershipApplication(**fields)
    application.full_clean()
    application.save()
    audit.record(actor=None, action="application.submit", target=application,
                 changes={"siret": application.siret, "contact": application.contact_email})
    return application


@transaction.atomic
def approve_application(*, actor, application: MembershipApplication, region=None) -> Adherent:
    """Create the adherent and its adhesion, and invite the contact as first correspondent
    (``region``: the delegation staff choose for it, if not chosen before)."""
    application = MembershipApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != MembershipApplication.Status.PENDING:
        raise ValidationError(_("Cette demande a déjà été décidée."))
    if region is not None:
        application.region = region
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
    open_adhesion(actor=actor, adherent=adherent, start_date=application.start_date,
                  covers_retired=application.covers_retired, reason=_("Demande d'adhésion approuvée"))
    application.status, application.adherent = MembershipApplication.Status.APPROVED, adherent
    application.decided_at, application.decided_by = timezone.now(), _user(actor)
    application.save()
    audit.record(actor=actor, action="application.approve", target=application)
    audit.record(actor=actor, action="adherent.create", target=adherent, reason="Demande d'adhésion approuvée")
    invitation = Invitation.objects.create(adherent=adherent, kind=Invitation.Kind.CORRESPONDENT,
                                           email=application.contact_email.lower(), invited_by=_user(actor))
    from adhesions.services.invitations import _send_on_commit

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


# --- Adhesions ------------------------------------------------------------------------------
# Every change of an adhesion recomputes at once the coverage of every agent it concerns (the
# employer's roster, a COS's members), in the same transaction, under the adherent's roster
# lock so that no import or roster edit interleaves.

def _d(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def _locked_adhesion(adhesion: Adhesion) -> Adhesion:
    _roster_lock(adhesion.adherent)
    return Adhesion.objects.select_for_update().select_related("adherent").get(pk=adhesion.pk)


def check_adhesion_period(*, adherent: Adherent, start_date: datetime.date, end_date: datetime.date | None = None,
                          exclude_pk: int | None = None) -> None:
    """An adherent's adhesions never overlap (the database refuses it too): say so in French."""
    others = adherent.adhesions.exclude(pk=exclude_pk).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=start_date))
    if end_date is not None:
        others = others.filter(start_date__lte=end_date)
    clash = others.order_by("start_date").first()
    if clash is not None:
        raise ValidationError({"start_date": _("Cette période chevauche l'adhésion %(other)s.") % {
            "other": clash}})


def _save_adhesion(adhesion: Adhesion) -> None:
    check_adhesion_period(adherent=adhesion.adherent, start_date=adhesion.start_date, end_date=adhesion.end_date,
                          exclude_pk=adhesion.pk)
    adhesion.full_clean(exclude=["adherent"], validate_constraints=False)
    try:
        with transaction.atomic():
            adhesion.save()
    except IntegrityError as exc:
        raise ValidationError(_("Cette période chevauche une autre adhésion de %(name)s.") % {
            "name": adhesion.adherent.name}) from exc


@transaction.atomic
def open_adhesion(*, actor, adherent: Adherent, start_date: datetime.date, covers_retired: bool = False,
                  reason: str = "") -> Adhesion:
    """The adherent is a member from ``start_date`` (until further notice); its agents are covered."""
    _roster_lock(adherent)
    adhesion = Adhesion(adherent=adherent, start_date=start_date, status=Adhesion.Status.ACTIVE,
                        covers_retired=covers_retired)
    _save_adhesion(adhesion)
    changed = recompute_adherent(adherent=adherent)
    audit.record(actor=actor, action="adhesion.open", target=adhesion, reason=reason,
                 changes={"effet": start_date.isoformat(), "retraités": covers_retired, "agents recalculés": changed})
    return adhesion


@transaction.atomic
def activate_adhesion(*, actor, adhesion: Adhesion, reason: str = "") -> Adhesion:
    """A pending adhesion takes effect from its start date."""
    adhesion = _locked_adhesion(adhesion)
    if adhesion.status != Adhesion.Status.PENDING:
        raise ValidationError(_("Seule une adhésion en cours d'instruction peut être activée."))
    adhesion.status = Adhesion.Status.ACTIVE
    _save_adhesion(adhesion)
    changed = recompute_adherent(adherent=adhesion.adherent)
    audit.record(actor=actor, action="adhesion.activate", target=adhesion, reason=reason,
                 changes={"agents recalculés": changed})
    return adhesion


def _stop(adhesion: Adhesion, *, last_day: datetime.date, status: str, reason: str) -> None:
    if adhesion.status != Adhesion.Status.ACTIVE:
        raise ValidationError(_("Cette adhésion n'est pas active (%(status)s).") % {
            "status": adhesion.get_status_display()})
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif.")})
    if last_day < adhesion.start_date:
        raise ValidationError({"end_date": _("L'adhésion a pris effet le %(date)s : elle ne peut pas s'arrêter "
                                             "avant.") % {"date": _d(adhesion.start_date)}})
    if adhesion.end_date is not None and last_day > adhesion.end_date:
        raise ValidationError({"end_date": _("L'adhésion prend déjà fin le %(date)s.") % {
            "date": _d(adhesion.end_date)}})
    adhesion.end_date, adhesion.status, adhesion.status_reason = last_day, status, reason.strip()
    _save_adhesion(adhesion)


@transaction.atomic
def end_adhesion(*, actor, adhesion: Adhesion, end_date: datetime.date, reason: str) -> Adhesion:
    """The adhesion is terminated after ``end_date`` (its last day): from the day after, its
    agents are no longer covered by it (beyond the extension of those who had left before)
    and later campaigns do not count it."""
    adhesion = _locked_adhesion(adhesion)
    _stop(adhesion, last_day=end_date, status=Adhesion.Status.ENDED, reason=reason)
    changed = recompute_adherent(adherent=adhesion.adherent)
    audit.record(actor=actor, action="adhesion.end", target=adhesion, reason=reason,
                 changes={"fin": end_date.isoformat(), "agents recalculés": changed})
    return adhesion


@transaction.atomic
def suspend_adhesion(*, actor, adhesion: Adhesion, from_date: datetime.date, reason: str) -> Adhesion:
    """Coverage stops from ``from_date`` until the adhesion is resumed (a new period then)."""
    adhesion = _locked_adhesion(adhesion)
    _stop(adhesion, last_day=from_date - datetime.timedelta(days=1), status=Adhesion.Status.SUSPENDED,
          reason=reason)
    changed = recompute_adherent(adherent=adhesion.adherent)
    audit.record(actor=actor, action="adhesion.suspend", target=adhesion, reason=reason,
                 changes={"suspendue le": from_date.isoformat(), "agents recalculés": changed})
    return adhesion


@transaction.atomic
def resume_adhesion(*, actor, adhesion: Adhesion, on: datetime.date, reason: str = "") -> Adhesion:
    """A suspended adhesion resumes on ``on``: a new period, with the same retired staff rule."""
    adhesion = _locked_adhesion(adhesion)
    if adhesion.status != Adhesion.Status.SUSPENDED:
        raise ValidationError(_("Seule une adhésion suspendue peut reprendre."))
    if on <= adhesion.end_date:
        raise ValidationError({"on": _("La reprise doit suivre la suspension (dernier jour couvert : %(date)s).") % {
            "date": _d(adhesion.end_date)}})
    resumed = Adhesion(adherent=adhesion.adherent, start_date=on, status=Adhesion.Status.ACTIVE,
                       covers_retired=adhesion.covers_retired)
    _save_adhesion(resumed)
    changed = recompute_adherent(adherent=adhesion.adherent)
    audit.record(actor=actor, action="adhesion.resume", target=resumed, reason=reason,
                 changes={"reprise": on.isoformat(), "suspendue depuis": (adhesion.end_date + datetime.timedelta(
                     days=1)).isoformat(), "agents recalculés": changed})
    return resumed


@transaction.atomic
def set_retired_coverage(*, actor, adhesion: Adhesion, covers_retired: bool, reason: str) -> Adhesion:
    """Whether the adhesion covers (and charges) the adherent's retired staff."""
    adhesion = _locked_adhesion(adhesion)
    if adhesion.covers_retired == covers_retired:
        return adhesion
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez le motif.")})
    adhesion.covers_retired = covers_retired
    _save_adhesion(adhesion)
    changed = recompute_adherent(adherent=adhesion.adherent)
    audit.record(actor=actor, action="adhesion.retired", target=adhesion, reason=reason,
                 changes={"retraités": [not covers_retired, covers_retired], "agents recalculés": changed})
    return adhesion
