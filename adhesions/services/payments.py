"""Payments of contribution calls, bank statements and reminders."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from adhesions.models import (
    BankStatement,
    ContributionCall,
    Payment,
    Reminder,
)
from adhesions.services._common import _user
from adhesions.statements import read_statement
from cnas import audit, outbox
from cnas.money import round_cents


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
                           "portal": settings.PORTAL_NAME}
                subject = render_to_string("adhesions/email/reminder_subject.txt", context).strip()
                body = render_to_string("adhesions/email/reminder_body.txt", context)
                if recipients:
                    outbox.enqueue("cnas.tasks.send_email", subject=subject, body=body, to=recipients)
                audit.record(actor=None, action=f"call.reminder{level}", target=call,
                             changes={"solde": str(call.balance)})
                sent += 1
    return sent
