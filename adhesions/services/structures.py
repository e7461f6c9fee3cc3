"""Member structures: joining applications, adhesions and their managers."""


from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.models import (
    Adherent,
    Adhesion,
    Invitation,
    Manager,
    MembershipApplication,
    check_manager_role,
)
from adhesions.services._common import _user
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
