"""Every change of state of a request: one function each, one transaction, audited, the
agent told by e-mail after the commit."""

import datetime
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agent, FamilyMember
from cnas import audit, locks, outbox
from cnas.links import absolute_reverse
from cnas.money import format_euros, round_cents
from cnas.pdf import render_pdf
from cnas.private_files import check_upload
from prestations import letters
from prestations.eligibility import Verdict, evaluate
from prestations.models import Demande, DemandeDocument, DemandeEvent, DocumentKind, PaymentBatch, Prestation

MAX_DOCUMENT_SIZE = 10 * 1024 * 1024
ACCEPTED_TYPES = {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}
S = Demande.Status


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _event(demande: Demande, *, actor, kind=DemandeEvent.Kind.STATUS, text: str = "") -> None:
    DemandeEvent.objects.create(demande=demande, kind=kind, status=demande.status, text=text, actor=_user(actor))


def _notify(demande: Demande) -> None:
    """E-mail the agent about the new status, from the worker, after the commit."""
    email = demande.agent.user.email if demande.agent.user_id else demande.agent.email
    if not email:
        return
    context = {"demande": demande, "portal": settings.PORTAL_NAME, "reasons": letters.refusal_reasons(demande),
               "payment_date": letters.expected_payment_date(demande),
               "link": absolute_reverse("espace:demande", demande.pk)}
    subject = render_to_string("prestations/email/status_subject.txt", context).strip()
    body = render_to_string("prestations/email/status_body.txt", context)
    outbox.enqueue("cnas.tasks.send_email", subject=subject, body=body, to=[email])


def _locked(demande: Demande) -> Demande:
    return (Demande.objects.select_for_update(of=("self",)).select_related("agent", "prestation", "child")
            .get(pk=demande.pk))


def verdict_for(demande: Demande, *, on: datetime.date | None = None) -> Verdict:
    return evaluate(agent=demande.agent, prestation=demande.prestation, on=on or timezone.localdate(),
                    event_date=demande.event_date, child=demande.child, expense=demande.expense,
                    exclude_demande_id=demande.pk)


# --- The agent ------------------------------------------------------------------------------

def _clean_request(*, agent: Agent, prestation: Prestation, child: FamilyMember | None,
                   event_date: datetime.date | None, expense: Decimal | None) -> None:
    if child is not None and (child.agent_id != agent.pk or child.relation != FamilyMember.Relation.CHILD):
        raise ValidationError({"child": _("Choisissez un enfant de votre foyer.")})
    if prestation.concerns_a_child and child is None:
        raise ValidationError({"child": _("Choisissez l'enfant concerné.")})
    if expense is not None and expense <= 0:
        raise ValidationError({"expense": _("Le montant de la dépense doit être positif.")})


@transaction.atomic
def save_draft(*, actor, agent: Agent, prestation: Prestation, demande: Demande | None = None,
               child: FamilyMember | None = None, event_date: datetime.date | None = None,
               expense: Decimal | None = None) -> Demande:
    _clean_request(agent=agent, prestation=prestation, child=child, event_date=event_date, expense=expense)
    if demande is None:
        demande = Demande.objects.create(agent=agent, prestation=prestation, child=child, event_date=event_date,
                                         expense=expense)
        _event(demande, actor=actor, text=_("Brouillon créé."))
        audit.record(actor=actor, action="demande.draft", target=demande)
    else:
        demande = _locked(demande)
        if demande.status != S.DRAFT:
            raise ValidationError(_("Seul un brouillon peut être modifié."))
        demande.child, demande.event_date, demande.expense = child, event_date, expense
        demande.save(update_fields=["child", "event_date", "expense"])
    return demande


def check_document(uploaded) -> str:
    """The content decides the type (PDF, JPEG or PNG), not the name; 10 MB at most; a PDF
    with scripts, launch actions or files inside is refused."""
    return check_upload(uploaded, accept=tuple(ACCEPTED_TYPES), max_size=MAX_DOCUMENT_SIZE)


def missing_documents(demande: Demande, *, documents: list[DemandeDocument] | None = None) -> list[DocumentKind]:
    """The kinds of document the prestation requires that the request does not have yet (``documents``:
    the request's documents, when the caller has read them already)."""
    if documents is None:
        present = set(demande.documents.exclude(kind__isnull=True).values_list("kind_id", flat=True))
    else:
        present = {document.kind_id for document in documents if document.kind_id is not None}
    return [kind for kind in demande.prestation.required_documents.all() if kind.pk not in present]


@transaction.atomic
def add_document(*, actor, demande: Demande, uploaded, kind: DocumentKind | None = None,
                 label: str = "") -> DemandeDocument:
    """Attach a file: one of the kinds the prestation requires, or (no kind) a further document."""
    demande = _locked(demande)
    if not demande.accepts_documents:
        raise ValidationError(_("On ne peut plus ajouter de pièce à cette demande."))
    if kind is not None and not demande.prestation.required_documents.filter(pk=kind.pk).exists():
        raise ValidationError({"kind": _("Cette pièce n'est pas demandée pour cette prestation.")})
    mime = check_document(uploaded)
    label = (kind.label if kind is not None else label.strip()) or _("Pièce complémentaire")
    document = DemandeDocument.objects.create(demande=demande, kind=kind, label=label[:200], file=uploaded,
                                              original_name=uploaded.name[:255], content_type=mime,
                                              size=uploaded.size)
    if demande.status != S.DRAFT:
        _event(demande, actor=actor, kind=DemandeEvent.Kind.DOCUMENT, text=document.label)
    audit.record(actor=actor, action="demande.document", target=demande, changes={"pièce": document.label})
    return document


@transaction.atomic
def submit(*, actor, demande: Demande) -> Demande:
    """The agent sends the request: it must be eligible today, with the documents and an IBAN."""
    demande = _locked(demande)
    if demande.status not in (S.DRAFT, S.AWAITING_DOCUMENTS):
        raise ValidationError(_("Cette demande a déjà été envoyée."))
    verdict = verdict_for(demande)
    problems = list(verdict.reasons)
    if demande.prestation.event != "none" and verdict.event_date is None:
        problems.append(_("Précisez la date de l'événement."))
    if verdict.amount is None:
        problems.append(_("Indiquez le montant de la dépense."))
    missing = missing_documents(demande)
    if missing:
        problems.append(_("Joignez les pièces demandées : %(kinds)s.") % {
            "kinds": ", ".join(kind.label for kind in missing)})
    if not demande.agent.iban:
        problems.append(_("Renseignez votre IBAN pour recevoir le versement."))
    if problems:
        raise ValidationError(problems)
    resumed = demande.status == S.AWAITING_DOCUMENTS
    demande.event_date = verdict.event_date
    demande.event_key = verdict.event_key or f"demande:{uuid.uuid4().hex}"
    demande.amount_computed = verdict.amount
    demande.adherent_id, demande.region_id = verdict.adherent_id, verdict.region_id
    demande.status = S.AWAITING_ATTESTATION if demande.prestation.employer_attestation and not demande.attested_at \
        else S.SUBMITTED
    if not resumed:
        demande.submitted_at = timezone.now()
    elif demande.awaiting_agent_since:  # the time the agent took is not the instructors' time
        demande.agent_wait += timezone.now() - demande.awaiting_agent_since
        demande.awaiting_agent_since = None
    try:
        with transaction.atomic():
            demande.save()
    except IntegrityError as exc:  # the same request sent at the same moment from another page
        raise ValidationError(_("Une demande est déjà en cours pour cet événement.")) from exc
    _event(demande, actor=actor, text=_("Pièces complétées.") if resumed else _("Demande déposée."))
    audit.record(actor=actor, action="demande.submit", target=demande, changes={"montant": str(verdict.amount)})
    _notify(demande)
    return demande


@transaction.atomic
def withdraw(*, actor, demande: Demande) -> Demande:
    demande = _locked(demande)
    if not demande.can_be_withdrawn:
        raise ValidationError(_("Une demande décidée ne peut plus être retirée."))
    demande.status = S.WITHDRAWN
    demande.save(update_fields=["status"])
    _event(demande, actor=actor, text=_("Demande retirée par l'agent."))
    audit.record(actor=actor, action="demande.withdraw", target=demande)
    return demande


@transaction.atomic
def post_message(*, actor, demande: Demande, text: str, from_staff: bool) -> DemandeEvent:
    text = text.strip()
    if not text:
        raise ValidationError({"text": _("Le message est vide.")})
    demande = _locked(demande)
    kind = DemandeEvent.Kind.MESSAGE_STAFF if from_staff else DemandeEvent.Kind.MESSAGE_AGENT
    event = DemandeEvent.objects.create(demande=demande, kind=kind, status=demande.status, text=text[:5000],
                                        actor=_user(actor))
    audit.record(actor=actor, action="demande.message", target=demande)
    if from_staff:
        _notify(demande)
    return event


# --- The employer ---------------------------------------------------------------------------

@transaction.atomic
def attest(*, actor, demande: Demande) -> Demande:
    demande = _locked(demande)
    if demande.status != S.AWAITING_ATTESTATION:
        raise ValidationError(_("Cette demande n'attend pas d'attestation."))
    demande.status, demande.attested_at, demande.attested_by = S.SUBMITTED, timezone.now(), _user(actor)
    demande.save(update_fields=["status", "attested_at", "attested_by"])
    _event(demande, actor=actor, text=_("Emploi attesté par l'employeur."))
    audit.record(actor=actor, action="demande.attest", target=demande)
    _notify(demande)
    return demande


@transaction.atomic
def decline_attestation(*, actor, demande: Demande, reason: str) -> Demande:
    if not reason.strip():
        raise ValidationError({"reason": _("Indiquez pourquoi vous n'attestez pas.")})
    demande = _locked(demande)
    if demande.status != S.AWAITING_ATTESTATION:
        raise ValidationError(_("Cette demande n'attend pas d'attestation."))
    demande.status, demande.refusal_reason = S.REFUSED, _("L'employeur n'a pas attesté : %(r)s") % {
        "r": reason.strip()}
    demande.decided_at, demande.decided_by = timezone.now(), _user(actor)
    demande.save(update_fields=["status", "refusal_reason", "decided_at", "decided_by"])
    _event(demande, actor=actor, text=demande.refusal_reason)
    audit.record(actor=actor, action="demande.attestation_declined", target=demande, reason=reason)
    _notify(demande)
    return demande


# --- Staff ----------------------------------------------------------------------------------

@transaction.atomic
def assign(*, actor, demande: Demande) -> Demande:
    demande = _locked(demande)
    demande.assigned_to = _user(actor)
    demande.save(update_fields=["assigned_to"])
    audit.record(actor=actor, action="demande.assign", target=demande)
    return demande


def _decide(demande: Demande, *, actor, status: str, text: str) -> None:
    demande.status, demande.decided_at, demande.decided_by = status, timezone.now(), _user(actor)
    _event(demande, actor=actor, text=text)

    outbox.enqueue("prestations.tasks.render_decision", demande_id=demande.pk,
                   dedupe_key=f"render_decision:{demande.pk}")
    _notify(demande)


@transaction.atomic
def accept(*, actor, demande: Demande, amount: Decimal | None = None, reason: str = "") -> Demande:
    """Accept with the amount from the rule; another amount needs a written reason."""
    demande = _locked(demande)
    if demande.status != S.SUBMITTED:
        raise ValidationError(_("Seule une demande déposée (et attestée s'il le faut) peut être acceptée."))
    # Two instructors accepting two requests of the same agent and prestation at once: the second
    # waits for the first to commit, then sees its amount in the yearly ceiling.
    locks.lock("ceiling", f"agent:{demande.agent_id}/prestation:{demande.prestation_id}")
    verdict = verdict_for(demande, on=timezone.localdate(demande.submitted_at))
    if not verdict.eligible:
        raise ValidationError([_("La demande n'est pas éligible :"), *verdict.reasons])
    granted = round_cents(amount) if amount is not None else verdict.amount
    if granted != verdict.amount and not reason.strip():
        raise ValidationError({"reason": _("Un montant différent de la règle (%(rule)s) doit être motivé.") % {
            "rule": format_euros(verdict.amount)}})
    if granted is None or granted < 0:
        raise ValidationError(_("Montant invalide."))
    demande.amount_computed, demande.amount_granted, demande.amount_change_reason = verdict.amount, granted, reason
    _decide(demande, actor=actor, status=S.ACCEPTED, text=_("Demande acceptée : %(amount)s.") % {
        "amount": format_euros(granted)})
    demande.save()
    audit.record(actor=actor, action="demande.accept", target=demande, reason=reason,
                 changes={"montant": str(granted), "règle": str(verdict.amount)})
    return demande


@transaction.atomic
def refuse(*, actor, demande: Demande, reason: str) -> Demande:
    if not reason.strip():
        raise ValidationError({"reason": _("Un refus doit être motivé.")})
    demande = _locked(demande)
    if demande.status not in Demande.OPEN:
        raise ValidationError(_("Cette demande n'est pas en cours d'instruction."))
    demande.refusal_reason = reason.strip()
    # The letter gives every reason in full: the rules the request does not meet go beside the instructor's.
    verdict = verdict_for(demande, on=timezone.localdate(demande.submitted_at) if demande.submitted_at else None)
    demande.refusal_grounds = [] if verdict.eligible else list(verdict.reasons)
    _decide(demande, actor=actor, status=S.REFUSED, text=_("Demande refusée : %(r)s") % {"r": reason.strip()})
    demande.save()
    audit.record(actor=actor, action="demande.refuse", target=demande, reason=reason)
    return demande


@transaction.atomic
def ask_documents(*, actor, demande: Demande, message: str) -> Demande:
    if not message.strip():
        raise ValidationError({"message": _("Dites à l'agent ce qui manque.")})
    demande = _locked(demande)
    if demande.status != S.SUBMITTED:
        raise ValidationError(_("Cette demande n'est pas en cours d'instruction."))
    demande.status, demande.awaiting_agent_since = S.AWAITING_DOCUMENTS, timezone.now()
    demande.save(update_fields=["status", "awaiting_agent_since"])
    DemandeEvent.objects.create(demande=demande, kind=DemandeEvent.Kind.MESSAGE_STAFF, status=demande.status,
                                text=message.strip(), actor=_user(actor))
    audit.record(actor=actor, action="demande.ask_documents", target=demande, reason=message)
    _notify(demande)
    return demande


LETTERS_MISSING = (Q(decision_pdf="", status__in=[S.ACCEPTED, S.REFUSED, S.PAID])
                   | Q(refusal_attestation_pdf="", status=S.REFUSED))


def render_decision(*, demande_id: int) -> None:
    """Worker side: the decision letter, and for a refusal its attestation, once each (a second run
    changes nothing)."""
    with transaction.atomic():
        wanted = Demande.objects.filter(LETTERS_MISSING, pk=demande_id)
        demande = (wanted.select_for_update(skip_locked=True, of=("self",))
                   .select_related("agent", "prestation", "adherent", "child", "region", "batch",
                                   "decided_by__staff_profile").first())
        if demande is None:
            if wanted.exists():  # somebody holds the row (a second click, a batch being prepared)
                raise outbox.TryLater(seconds=5)
            return
        context = letters.context(demande)
        fields = []
        if not demande.decision_pdf:
            content = render_pdf("prestations/pdf/decision.html", context)
            demande.decision_pdf.save(f"decision-{demande.pk}.pdf", ContentFile(content), save=False)
            fields.append("decision_pdf")
        if demande.status == S.REFUSED and not demande.refusal_attestation_pdf:
            content = render_pdf("prestations/pdf/refusal_attestation.html", context)
            demande.refusal_attestation_pdf.save(f"attestation-refus-{demande.pk}.pdf", ContentFile(content),
                                                 save=False)
            fields.append("refusal_attestation_pdf")
        demande.save(update_fields=fields)


def resume_missing_letters() -> int:
    """At a worker's start and from beat: every decided request without its letters has the letters'
    work waiting in the outbox (a decision older than the outbox, or whose work was lost)."""
    resumed = 0
    missing = Demande.objects.filter(LETTERS_MISSING).values_list("pk", "decision_pdf")
    for pk, decision in missing.iterator():
        # a refusal decided before attestations existed has its letter: its attestation is other work
        key = f"render_attestation:{pk}" if decision else f"render_decision:{pk}"
        resumed += outbox.ensure("prestations.tasks.render_decision", demande_id=pk, dedupe_key=key) is not None
    return resumed


# --- Staff only: notes and opinions -----------------------------------------------------------

def _staff_text(text: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({field: _("Le texte est vide.")})
    return text[:5000]


@transaction.atomic
def add_note(*, actor, demande: Demande, text: str) -> DemandeEvent:
    """A note only staff read (never the agent, never in an e-mail)."""
    text = _staff_text(text, "note")
    demande = _locked(demande)
    event = DemandeEvent.objects.create(demande=demande, kind=DemandeEvent.Kind.NOTE, status=demande.status,
                                        text=text, actor=_user(actor))
    audit.record(actor=actor, action="demande.note", target=demande)
    return event


def can_give_opinions(user, demande: Demande) -> bool:
    """A colleague who may read this request: staff, active, with the right to read requests, whose
    scope holds the request's region."""
    from accounts.scope import staff_scope

    return bool(user and user.is_active and user.is_staff and user.has_perm("prestations.view_demande")
                and staff_scope(user).allows_region(demande.region_id))


@transaction.atomic
def ask_opinion(*, actor, demande: Demande, addressee, question: str) -> DemandeEvent:
    """Ask a colleague (a social worker, a head of office) for an opinion on the request and its
    documents; he is e-mailed a link to the request's page in the admin."""
    question = _staff_text(question, "question")
    if addressee is None or not can_give_opinions(addressee, demande):
        raise ValidationError({"addressee": _("Cette personne ne peut pas lire cette demande.")})
    if _user(actor) and addressee.pk == actor.pk:
        raise ValidationError({"addressee": _("Demandez l'avis de quelqu'un d'autre que vous.")})
    demande = _locked(demande)
    event = DemandeEvent.objects.create(demande=demande, kind=DemandeEvent.Kind.OPINION_ASKED, status=demande.status,
                                        text=question, actor=_user(actor), addressee=addressee)
    audit.record(actor=actor, action="demande.ask_opinion", target=demande, changes={"à": addressee.email})
    link = absolute_reverse("admin:prestations_demande_change", demande.pk)
    outbox.enqueue("cnas.tasks.send_email", to=[addressee.email],
                   subject=_("Avis demandé sur la demande n° %(n)s") % {"n": demande.pk},
                   body=_("Bonjour,\n\n%(who)s vous demande votre avis sur la demande n° %(n)s :\n\n%(q)s\n\n"
                          "Ouvrir la demande : %(link)s\n") % {
                       "who": actor.get_full_name() or actor.email if _user(actor) else settings.PORTAL_NAME,
                       "n": demande.pk, "q": question, "link": link})
    return event


@transaction.atomic
def give_opinion(*, actor, asked: DemandeEvent, text: str) -> DemandeEvent:
    """The colleague asked answers, once."""
    text = _staff_text(text, "opinion")
    asked = DemandeEvent.objects.select_for_update().get(pk=asked.pk, kind=DemandeEvent.Kind.OPINION_ASKED)
    if asked.addressee_id != getattr(actor, "pk", None):
        raise ValidationError(_("Cet avis a été demandé à quelqu'un d'autre."))
    if DemandeEvent.objects.filter(answers=asked).exists():
        raise ValidationError(_("Vous avez déjà donné cet avis."))
    demande = _locked(asked.demande)
    event = DemandeEvent.objects.create(demande=demande, kind=DemandeEvent.Kind.OPINION, status=demande.status,
                                        text=text, actor=_user(actor), answers=asked)
    audit.record(actor=actor, action="demande.give_opinion", target=demande)
    return event


def next_in_queue(*, user, after: Demande | None = None) -> Demande | None:
    """The oldest open request of the user's queue that is not someone else's: his own, or nobody's."""
    from accounts.scope import staff_scope

    scope = staff_scope(user)
    if scope.sees_nothing:
        return None
    queue = Demande.objects.filter(status=S.SUBMITTED, submitted_at__isnull=False)  # waiting on staff
    if not scope.national:
        queue = queue.filter(region_id=scope.region_id)
    queue = queue.filter(Q(assigned_to__isnull=True) | Q(assigned_to=user))
    if after is not None:
        queue = queue.exclude(pk=after.pk)
    return queue.order_by("submitted_at", "id").first()


# --- Payment --------------------------------------------------------------------------------

@transaction.atomic
def prepare_batch(*, actor, execution_date: datetime.date | None = None, region_id: int | None = None
                  ) -> PaymentBatch:
    """Gather every accepted request not in a batch yet (of one delegation, or of all when
    ``region_id`` is None) into one SEPA credit transfer file."""
    from prestations.sepa import build_pain001

    accepted = Demande.objects.filter(status=S.ACCEPTED, batch__isnull=True)
    if region_id is not None:
        accepted = accepted.filter(region_id=region_id)
    demandes = list(accepted.select_for_update(of=("self",)).select_related("agent", "prestation")
                    .order_by("decided_at", "id"))
    if not demandes:
        raise ValidationError(_("Aucune demande acceptée n'attend de paiement."))
    without_iban = [d for d in demandes if not d.agent.iban]
    if without_iban:
        raise ValidationError(_("Sans IBAN : %(names)s.") % {"names": ", ".join(str(d.agent) for d in without_iban)})
    execution_date = execution_date or timezone.localdate() + datetime.timedelta(days=1)
    batch = PaymentBatch(execution_date=execution_date, created_by=_user(actor), region_id=region_id)
    xml = build_pain001(batch=batch, demandes=demandes)  # sets the batch's message id
    batch.save()
    batch.file.save(f"{batch.message_id}.xml", ContentFile(xml), save=False)
    batch.count = len(demandes)
    batch.total = sum((d.amount_granted for d in demandes), Decimal("0"))
    batch.save()
    Demande.objects.filter(pk__in=[d.pk for d in demandes]).update(batch=batch)
    audit.record(actor=actor, action="batch.prepare", target=batch,
                 changes={"virements": batch.count, "total": str(batch.total)})
    return batch


@transaction.atomic
def confirm_batch_sent(*, actor, batch: PaymentBatch) -> PaymentBatch:
    """Staff confirm the file went to the bank: its requests are paid. A second call changes nothing."""
    batch = PaymentBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status == PaymentBatch.Status.SENT:
        return batch
    now = timezone.now()
    batch.status, batch.sent_at, batch.sent_by = PaymentBatch.Status.SENT, now, _user(actor)
    batch.save(update_fields=["status", "sent_at", "sent_by"])
    for demande in Demande.objects.select_for_update(of=("self",)).select_related("agent").filter(batch=batch):
        demande.status, demande.paid_at = S.PAID, now
        demande.save(update_fields=["status", "paid_at"])
        _event(demande, actor=actor, text=_("Versement de %(amount)s envoyé à la banque.") % {
            "amount": format_euros(demande.amount_granted)})
        _notify(demande)
    audit.record(actor=actor, action="batch.sent", target=batch)
    return batch
