"""The one function that answers: may this agent have this prestation, on this date, for
this event, how much, and why (or why not) — in French. The catalogue page, the request
form, the instruction screen and the `eligibility` command all ask it, so they never
disagree."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Agent, AgentStatus, FamilyMember, TaxDeclaration
from adhesions.models import Employment
from adhesions.selectors import entitlement_on
from cnas.money import format_euros, round_cents
from prestations.models import AmountRule, Bracket, Demande, Event, Prestation, TimeUnit


@dataclass
class Verdict:
    eligible: bool = True
    amount: Decimal | None = None
    reasons: list[str] = field(default_factory=list)  # what blocks, in French
    notes: list[str] = field(default_factory=list)  # what the agent should know
    deadline: datetime.date | None = None
    event_key: str = ""
    event_date: datetime.date | None = None
    adherent_id: int | None = None
    region_id: int | None = None
    family_quotient: Decimal | None = None

    def block(self, reason: str) -> None:
        self.eligible = False
        self.reasons.append(reason)


def d(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Age in whole years, date to date (calendar arithmetic)."""
    return relativedelta(day, birth).years


def school_year_start(day: datetime.date) -> datetime.date:
    return datetime.date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def deadline_after(event_date: datetime.date, *, amount: int, unit: str) -> datetime.date:
    """The last day (included) of a time limit counted from the event, date to date: six months
    after 31 August is the last day of February."""
    if unit == TimeUnit.DAYS:
        return event_date + datetime.timedelta(days=amount)
    return event_date + relativedelta(months=amount)


def service_months(periods, *, on: datetime.date) -> int:
    """Length of service on ``on``, in whole months: the employment periods (start, end or None)
    up to that day are merged where they overlap, then their lengths are added up date to date
    (each period continues the previous one), so that a long gap between two short contracts
    counts for nothing."""
    spans = sorted((start, min(end or on, on)) for start, end in periods if start <= on)
    merged: list[list[datetime.date]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1] + datetime.timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    if not merged:
        return 0
    anchor = reached = merged[0][0]
    for start, end in merged:
        reached = reached + relativedelta(end + datetime.timedelta(days=1), start)
    length = relativedelta(reached, anchor)
    return length.years * 12 + length.months


@dataclass(frozen=True)
class AgentFacts:
    """What ``evaluate`` reads about one agent on one day, read once by a page that evaluates every
    prestation (the catalogue, the home page): the same answers as the queries it replaces, in a few
    queries instead of a few per prestation. Never used where a decision is taken under a lock."""

    on: datetime.date
    entitlement: object
    service_periods: tuple[tuple[datetime.date, datetime.date | None], ...]
    family_quotient: Decimal | None
    # (pk, prestation_id, event_key, status, decided_at, amount_granted) of each of his requests
    demandes: tuple[tuple, ...]


def facts_of(agent: Agent, *, on: datetime.date, entitlement=None) -> AgentFacts:
    return AgentFacts(
        on=on,
        entitlement=entitlement or entitlement_on(agent=agent, day=on),
        service_periods=tuple(Employment.objects.filter(agent=agent, start_date__lte=on)
                              .values_list("start_date", "end_date")),
        family_quotient=family_quotient(agent, on),
        demandes=tuple(Demande.objects.filter(agent=agent).values_list(
            "pk", "prestation_id", "event_key", "status", "decided_at", "amount_granted")),
    )


def family_quotient(agent: Agent, on: datetime.date) -> Decimal | None:
    """QF = reference tax income / tax shares / 12, from the latest notice of the last two years."""
    declaration = (TaxDeclaration.objects.filter(agent=agent, year__in=[on.year - 1, on.year - 2])
                   .order_by("-year").first())
    return declaration.family_quotient if declaration else None


def bracket_amount(brackets: list[Bracket], qf: Decimal | None) -> Decimal | None:
    """The amount of the first bracket whose limit the QF does not exceed; without a QF, the
    last bracket (the highest quotients)."""
    ordered = sorted(brackets, key=lambda b: (b.qf_max is None, b.qf_max or 0))
    if not ordered:
        return None
    if qf is None:
        return ordered[-1].amount
    for bracket in ordered:
        if bracket.qf_max is None or qf <= bracket.qf_max:
            return bracket.amount
    return ordered[-1].amount


def share_amount(expense: Decimal, percent: Decimal, ceiling: Decimal | None) -> Decimal:
    amount = round_cents(max(expense, Decimal("0")) * percent / 100)
    return min(amount, ceiling) if ceiling is not None else amount


def evaluate(*, agent: Agent, prestation: Prestation, on: datetime.date, event_date: datetime.date | None = None,
             child: FamilyMember | None = None, expense: Decimal | None = None,
             exclude_demande_id: int | None = None, entitlement=None, facts: AgentFacts | None = None) -> Verdict:
    """``entitlement`` (of this agent on this day), or all his ``facts``, may be given when many
    prestations are evaluated at once, as the catalogue does."""
    verdict = Verdict()
    if facts is not None and facts.on != on:
        raise ValueError("facts of another day")

    entitlement = entitlement or (facts.entitlement if facts else None) or entitlement_on(agent=agent, day=on)
    if not entitlement.may_order:
        verdict.block(entitlement.reason)
    if entitlement.coverage is not None:
        verdict.adherent_id = entitlement.coverage.adherent_id
        verdict.region_id = entitlement.coverage.adherent.region_id

    if agent.status == AgentStatus.WORKING and not prestation.for_working:
        verdict.block(_("Cette prestation est réservée aux retraités."))
    if agent.status == AgentStatus.RETIRED and not prestation.for_retired:
        verdict.block(_("Cette prestation est réservée aux agents en activité."))
    if prestation.valid_from > on:
        verdict.block(_("Cette prestation est proposée à partir du %(date)s.") % {"date": d(prestation.valid_from)})
    if prestation.valid_until and prestation.valid_until < on:
        verdict.block(_("Cette prestation n'est plus proposée depuis le %(date)s.") % {
            "date": d(prestation.valid_until)})

    if prestation.min_service_months:
        periods = facts.service_periods if facts else (Employment.objects.filter(agent=agent, start_date__lte=on)
                                                       .values_list("start_date", "end_date"))
        months = service_months(periods, on=on)
        if months < prestation.min_service_months:
            verdict.block(_("Il faut %(required)s mois d'ancienneté ; vous en comptez %(months)s.") % {
                "required": prestation.min_service_months, "months": months})

    _check_event(verdict, agent=agent, prestation=prestation, on=on, event_date=event_date, child=child,
                 exclude_demande_id=exclude_demande_id, facts=facts)
    _compute_amount(verdict, agent=agent, prestation=prestation, on=on, expense=expense,
                    exclude_demande_id=exclude_demande_id, facts=facts)
    return verdict


def _same_event(facts: AgentFacts, *, prestation, event_key: str, exclude: int | None) -> set[str]:
    """The statuses of his requests of this prestation for this event (from his facts)."""
    return {status for pk, prestation_id, key, status, _decided, _amount in facts.demandes
            if prestation_id == prestation.pk and key == event_key and pk != exclude}


def _granted_this_year(facts: AgentFacts, *, prestation, year: int, exclude: int | None) -> Decimal:
    return sum((amount or Decimal("0") for pk, prestation_id, _key, status, decided, amount in facts.demandes
                if prestation_id == prestation.pk and status in Demande.GRANTED and decided is not None
                and timezone.localtime(decided).year == year and pk != (exclude or 0)), Decimal("0"))


def _check_event(verdict: Verdict, *, agent, prestation, on, event_date, child, exclude_demande_id,
                 facts: AgentFacts | None = None) -> None:
    if prestation.concerns_a_child:
        if child is None:
            verdict.notes.append(_("Précisez l'enfant concerné."))
        elif child.agent_id != agent.pk or child.relation != FamilyMember.Relation.CHILD:
            verdict.block(_("Cette personne n'est pas un enfant déclaré dans votre foyer."))
            child = None
        if child is not None and prestation.event == Event.BIRTH:
            event_date = child.arrival_date  # the child's birth, or his arrival when adopted
    if prestation.event == Event.SCHOOL_YEAR:
        event_date = school_year_start(event_date or on)  # the school year's first day
    if prestation.event != Event.NONE and event_date is None and not prestation.concerns_a_child:
        verdict.notes.append(_("Précisez la date de l'événement."))
    verdict.event_date = event_date

    if event_date is not None:
        if event_date > on:
            verdict.block(_("La date de l'événement (%(date)s) est dans le futur.") % {"date": d(event_date)})
        if prestation.time_limit is not None:
            verdict.deadline = deadline_after(event_date, amount=prestation.time_limit,
                                              unit=prestation.time_limit_unit)
            if on > verdict.deadline:
                verdict.block(_("Le délai est dépassé : la demande était possible jusqu'au %(date)s.") % {
                    "date": d(verdict.deadline)})
            else:
                verdict.notes.append(_("Demande possible jusqu'au %(date)s.") % {"date": d(verdict.deadline)})
    if child is not None and event_date is not None:
        reference = school_year_start(event_date) if prestation.event == Event.SCHOOL_YEAR else event_date
        age = age_on(child.birth_date, reference)
        if prestation.child_min_age is not None and age < prestation.child_min_age:
            verdict.block(_("%(name)s aura %(age)s an(s) : il faut au moins %(min)s ans.") % {
                "name": child.first_name, "age": age, "min": prestation.child_min_age})
        if prestation.child_max_age is not None and age > prestation.child_max_age:
            verdict.block(_("%(name)s a %(age)s ans : cette prestation s'arrête à %(max)s ans.") % {
                "name": child.first_name, "age": age, "max": prestation.child_max_age})

    verdict.event_key = _event_key(prestation, on=on, event_date=event_date, child=child)
    if prestation.once_per_event and verdict.event_key:
        if facts is not None:
            statuses = _same_event(facts, prestation=prestation, event_key=verdict.event_key,
                                   exclude=exclude_demande_id)
            granted = any(status in Demande.GRANTED for status in statuses)
            pending = not granted and any(status in Demande.OPEN for status in statuses)
        else:
            others = Demande.objects.filter(agent=agent, prestation=prestation, event_key=verdict.event_key)
            if exclude_demande_id:
                others = others.exclude(pk=exclude_demande_id)
            granted = others.filter(status__in=Demande.GRANTED).exists()
            pending = not granted and others.filter(status__in=Demande.OPEN).exists()
        if granted:
            if child is not None:
                verdict.block(_("Déjà versée pour %(name)s, né(e) le %(date)s.") % {
                    "name": child.first_name, "date": d(child.birth_date)})
            else:
                verdict.block(_("Déjà accordée pour cet événement (%(date)s).") % {
                    "date": d(event_date) if event_date else on.year})
        elif pending:
            verdict.block(_("Une demande est déjà en cours pour cet événement."))


def _event_key(prestation, *, on, event_date, child) -> str:
    if prestation.event == Event.SCHOOL_YEAR and child is not None:
        return f"child:{child.pk}:{school_year_start(event_date or on).year}"
    if prestation.concerns_a_child:
        return f"child:{child.pk}" if child is not None else ""
    if prestation.event != Event.NONE:
        return f"date:{event_date.isoformat()}" if event_date else ""
    return f"year:{on.year}" if prestation.once_per_event else ""


def _compute_amount(verdict: Verdict, *, agent, prestation, on, expense, exclude_demande_id,
                    facts: AgentFacts | None = None) -> None:
    if prestation.amount_rule == AmountRule.FIXED:
        amount = prestation.fixed_amount
    elif prestation.amount_rule == AmountRule.BRACKETS:
        verdict.family_quotient = facts.family_quotient if facts else family_quotient(agent, on)
        amount = bracket_amount(list(prestation.brackets.all()), verdict.family_quotient)
        if verdict.family_quotient is None:
            verdict.notes.append(_("Sans avis d'imposition déclaré, le montant de la dernière tranche s'applique."))
        else:
            verdict.notes.append(_("Votre quotient familial : %(qf)s.") % {"qf": format_euros(
                verdict.family_quotient)})
    elif prestation.amount_rule == AmountRule.LOAN:
        amount = None  # lent, not given: the simulator shows the instalments of the amount chosen
        verdict.notes.append(_("Choisissez le montant et la durée : la simulation donne vos mensualités, le coût "
                               "total et le taux."))
    else:
        if expense is None:
            amount = None
            verdict.notes.append(_("Indiquez le montant de la dépense pour connaître l'aide (%(pct)s %% "
                                   "de la dépense%(ceiling)s).") % {
                "pct": f"{prestation.share_percent:g}".replace(".", ","),
                "ceiling": _(", jusqu'à %(c)s") % {"c": format_euros(prestation.share_ceiling)}
                if prestation.share_ceiling is not None else ""})
        else:
            amount = share_amount(expense, prestation.share_percent, prestation.share_ceiling)

    if prestation.yearly_ceiling is not None and amount is not None:
        if facts is not None:
            granted = _granted_this_year(facts, prestation=prestation, year=on.year, exclude=exclude_demande_id)
        else:
            granted = (Demande.objects.filter(agent=agent, prestation=prestation, status__in=Demande.GRANTED,
                                              decided_at__year=on.year)
                       .exclude(pk=exclude_demande_id or 0).aggregate(total=Sum("amount_granted"))["total"]
                       or Decimal("0"))
        remaining = prestation.yearly_ceiling - granted
        if remaining <= 0:
            verdict.block(_("Plafond annuel de %(ceiling)s atteint pour %(year)s.") % {
                "ceiling": format_euros(prestation.yearly_ceiling), "year": on.year})
            amount = Decimal("0.00")
        elif amount > remaining:
            verdict.notes.append(_("Montant limité par le plafond annuel de %(ceiling)s.") % {
                "ceiling": format_euros(prestation.yearly_ceiling)})
            amount = remaining
    verdict.amount = amount
