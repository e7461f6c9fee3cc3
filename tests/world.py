"""Building a test's world the way its users do: through the services (adhesion, hiring,
departures, payroll, COS members and fees), never by writing derived rows by hand. Coverage
and the basis of the contributions are whatever the services derive from it.

Only rows that are pure data entered by staff (a region, an adherent's identity, the employers
a COS serves) come from the factories."""

import datetime
from decimal import Decimal
from itertools import count

from accounts import services as account_services
from adhesions import services
from adhesions.models import Adherent, Adhesion, ContributionScale, Employment
from tests import factories

D = datetime.date
JOINED_2015, BORN_1985, CHILD_BORN_2015 = D(2015, 1, 1), D(1985, 6, 15), D(2015, 3, 1)
_numbers = count(1)


def adherent(*, cos: bool = False, **fields) -> Adherent:
    """A structure's identity (created by staff or from a joining application), not adhering yet."""
    return factories.AdherentFactory(cos=cos, **fields)


def adhere(adherent: Adherent, start: datetime.date, *, covers_retired: bool = False) -> Adhesion:
    return services.open_adhesion(actor=None, adherent=adherent, start_date=start, covers_retired=covers_retired)


def member_structure(*, start: datetime.date = JOINED_2015, covers_retired: bool = False, cos: bool = False,
                     **fields) -> Adherent:
    """An adherent that adheres from ``start``."""
    structure = adherent(cos=cos, **fields)
    adhere(structure, start, covers_retired=covers_retired)
    return structure


def hire(employer: Adherent, start: datetime.date, *, first_name: str = "Camille", last_name: str | None = None,
         birth_date: datetime.date = BORN_1985, number: str | None = None, **identity) -> Employment:
    n = next(_numbers)
    return services.hire_agent(actor=None, employer=employer, employee_number=number or f"W{n:06d}",
                               start_date=start, last_name=last_name or f"Agent{n}", first_name=first_name,
                               birth_date=birth_date, **identity)


def hire_many(employer: Adherent, how_many: int, start: datetime.date) -> list[Employment]:
    return [hire(employer, start) for _ in range(how_many)]


def rehire(employer: Adherent, agent, start: datetime.date, *, number: str | None = None) -> Employment:
    """The same person back on a roster (or on another employer's)."""
    return services.register_employment(actor=None, agent=agent, employer=employer,
                                        employee_number=number or f"R{next(_numbers):06d}", start_date=start)


def leave(employment: Employment, end: datetime.date, reason: str = Employment.EndReason.RESIGNATION) -> Employment:
    return services.end_employment(actor=None, employment=employment, end_date=end, reason=reason)


def retire(employment: Employment, end: datetime.date) -> Employment:
    return leave(employment, end, Employment.EndReason.RETIREMENT)


def declare(adherent: Adherent, year: int, payroll: str | Decimal, *, working: int = 0, retired: int = 0):
    return services.declare_payroll(actor=None, adherent=adherent, year=year, gross_payroll=Decimal(payroll),
                                    working_headcount=working, retired_headcount=retired)


def child(agent, *, first_name: str = "Léa", birth_date: datetime.date = CHILD_BORN_2015,
          adoption_date: datetime.date | None = None):
    return account_services.add_family_member(actor=None, agent=agent, relation="child", first_name=first_name,
                                              last_name=agent.last_name, birth_date=birth_date,
                                              adoption_date=adoption_date)


def scale(year: int, **values) -> ContributionScale:
    """The scale staff edit in the admin: the README's worked example by default."""
    defaults = {"employer_mode": "payroll", "payroll_rate": Decimal("0.86"), "floor_per_agent": Decimal("150"),
                "ceiling_per_agent": Decimal("400"), "flat_per_agent": Decimal("205"),
                "cos_per_agent": Decimal("120"), "retired_flat": Decimal("137.80"), "due_date": D(year, 3, 31)}
    return ContributionScale.objects.create(year=year, **{**defaults, **values})


def serve(cos: Adherent, employer: Adherent) -> None:
    """Staff record that the COS serves this employer's staff (admin, « Employeurs servis »)."""
    from cos.models import CosEmployer

    CosEmployer.objects.get_or_create(cos=cos, employer=employer)


def join_cos(cos: Adherent, agent, joined: datetime.date):
    from cos import services as cos_services

    return cos_services.add_member(actor=None, cos=cos, agent=agent, joined_on=joined)


def pay_fee(member, year: int, *, paid_on: datetime.date | None = None, amount: str = "25.00"):
    from cos import services as cos_services

    return cos_services.record_fee(actor=None, member=member, year=year, amount=Decimal(amount),
                                   paid_on=paid_on or D(year, 2, 1), means="transfer")
