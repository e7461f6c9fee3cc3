"""What a decision letter says: who decided and signs, the request's facts, the expected payment
date, every reason of a refusal, and how to contest. The worker renders the PDFs from here
(`services.render_decision`); the agent's request page and the e-mails read the same facts."""

import datetime
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import timezone

from accounts.roles import ROLES_BY_NAME
from prestations.models import Demande, LetterWording


@lru_cache(maxsize=32)
def public_holidays(year: int) -> frozenset[datetime.date]:
    """France's public holidays of a year (the holidays package takes ~10 ms to work out a year)."""
    return frozenset(holidays.France(years=year))


def working_days_after(day: datetime.date, days: int) -> datetime.date:
    """The ``days``-th working day after ``day``: no Saturday, Sunday or French public holiday."""
    closed = public_holidays(day.year) | public_holidays(day.year + 1)
    while days > 0:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            days -= 1
    return day


def expected_payment_date(demande: Demande) -> datetime.date | None:
    """When the money should reach the agent: the date of its transfer when a batch holds it, otherwise
    the decision day plus the payment delay the body commits to (``PAYMENT_DELAY_WORKING_DAYS``)."""
    if demande.status not in Demande.GRANTED or demande.decided_at is None:
        return None
    if demande.batch_id:
        return demande.batch.execution_date
    return working_days_after(timezone.localdate(demande.decided_at), settings.PAYMENT_DELAY_WORKING_DAYS)


@dataclass(frozen=True)
class Signatory:
    name: str
    role: str


def signatory(demande: Demande) -> Signatory:
    """The staff member who decided, with the function the letter gives him (his job title, or his role)."""
    user = demande.decided_by
    if user is None:
        return Signatory(name="", role="Le service des prestations")
    name = user.get_full_name().strip() or user.email
    profile = getattr(user, "staff_profile", None)
    role = profile.job_title if profile is not None and profile.job_title else ""
    if not role:
        groups = [ROLES_BY_NAME[g].name for g in user.groups.values_list("name", flat=True) if g in ROLES_BY_NAME]
        role = groups[0] if groups else "Service des prestations"
    return Signatory(name=name, role=role)


def refusal_reasons(demande: Demande) -> list[str]:
    """Every reason of a refusal, in full: the instructor's, then each rule the request did not meet."""
    reasons = [demande.refusal_reason.strip()] if demande.refusal_reason.strip() else []
    return reasons + [ground for ground in demande.refusal_grounds if ground not in reasons]


def context(demande: Demande, *, today: datetime.date | None = None) -> dict:
    kind = LetterWording.Kind.REFUSAL if demande.status == Demande.Status.REFUSED else LetterWording.Kind.ACCEPTANCE
    region = demande.region
    civility = {"F": "Madame", "M": "Monsieur"}.get(demande.agent.sex, "")
    return {
        "demande": demande,
        "today": today or timezone.localdate(),
        "wording": LetterWording.for_kind(kind),
        "region": region,
        "delegation_lines": region.postal_lines if region else [settings.NATIONAL_BODY["name"]],
        "signatory": signatory(demande),
        "payment_date": expected_payment_date(demande),
        "reasons": refusal_reasons(demande),
        "refused": kind == LetterWording.Kind.REFUSAL,
        "civility": civility,
        "salutation": civility or "Madame, Monsieur",
    }
