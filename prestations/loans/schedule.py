"""The schedule of a social loan, to the cent: the one computation behind the simulator, the contract and
every recomputation after an early repayment.

The usual French amortisation with constant instalments. With ``r`` the nominal annual rate divided by
12, ``n`` the number of instalments and ``C`` the capital:

- each month, interest = remaining capital × r, rounded half-up to the cent;
- instalment = C × r / (1 − (1 + r)^−n), rounded half-up to the cent; the capital part of a month is the
  instalment minus that month's interest;
- the last instalment takes the rounding differences: it repays exactly the capital that remains, plus
  its interest;
- at 0 %, the instalment is C / n rounded down to the cent, the remainder on the last.

A deferral of ``d`` months before the first instalment: nothing is paid in those months, and their
interest (same rule) is added to the capital, so that the schedule's cost is the true cost of the money
lent. Decimal only; nothing here reads the database.
"""

import datetime
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from dateutil.relativedelta import relativedelta

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MINIMUM_INSTALMENT = Decimal("5.00")  # a direct debit costs the body more than a smaller one brings back


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Line:
    number: int  # 1 for the first month of the schedule (a deferred month included)
    due_on: datetime.date
    instalment: Decimal  # what the borrower pays that month (0 in a deferred month)
    interest: Decimal
    capital: Decimal  # the capital repaid that month (negative in a deferred month: its interest is added)
    remaining: Decimal  # the capital still due once this line is paid

    @property
    def deferred(self) -> bool:
        return self.instalment == ZERO and self.capital < ZERO


@dataclass(frozen=True)
class Schedule:
    capital: Decimal
    annual_rate: Decimal  # nominal, in percent (1.50 for 1.50 %)
    months: int  # instalments, deferred months not counted
    deferral: int
    lines: tuple[Line, ...]

    @property
    def instalment(self) -> Decimal:
        """The constant monthly instalment (the last one may differ by the rounding)."""
        paying = [line.instalment for line in self.lines if not line.deferred]
        return paying[0]

    @property
    def last_instalment(self) -> Decimal:
        return self.lines[-1].instalment

    @property
    def total_due(self) -> Decimal:
        return sum((line.instalment for line in self.lines), ZERO)

    @property
    def cost(self) -> Decimal:
        """The total cost of the loan: every instalment, less the capital lent."""
        return self.total_due - self.capital

    @property
    def total_interest(self) -> Decimal:
        return sum((line.interest for line in self.lines), ZERO)

    @property
    def apr(self) -> Decimal:
        """The annual percentage rate (TAEG, no fees): the yearly actuarial rate at which the instalments,
        discounted month by month from the first month of the schedule, are worth the capital lent;
        in percent, to two places."""
        if self.cost <= 0:
            return Decimal("0.00")
        flows = [(line.number, line.instalment) for line in self.lines if line.instalment]
        with localcontext() as context:
            context.prec = 34
            low, high = Decimal(0), Decimal(1)  # monthly rates
            for _ in range(100):
                middle = (low + high) / 2
                worth = sum(amount / (1 + middle) ** number for number, amount in flows)
                low, high = (middle, high) if worth > self.capital else (low, middle)
            yearly = ((1 + low) ** 12 - 1) * 100
        return yearly.quantize(CENT, rounding=ROUND_HALF_UP)


def first_line_month(disbursed_on: datetime.date) -> datetime.date:
    """The first line of a schedule falls due on the 5th of the month after the money is paid out."""
    return (disbursed_on + relativedelta(months=1)).replace(day=5)


def monthly_rate(annual_rate: Decimal) -> Decimal:
    return annual_rate / Decimal(1200)


def constant_instalment(*, capital: Decimal, annual_rate: Decimal, months: int) -> Decimal:
    if months < 1:
        raise ValueError("at least one instalment")
    if not annual_rate:
        return (capital / months).quantize(CENT, rounding=ROUND_DOWN)
    r = monthly_rate(annual_rate)
    with localcontext() as context:
        context.prec = 34
        return cents(capital * r / (1 - (1 + r) ** -months))


def compute(*, capital: Decimal, annual_rate: Decimal, months: int, first_month: datetime.date,
            deferral: int = 0) -> Schedule:
    """The schedule of ``capital`` lent at ``annual_rate`` % over ``months`` instalments, after
    ``deferral`` months without instalment; the first line falls due on ``first_month``, the next ones on
    the same day of the following months."""
    capital = cents(Decimal(capital))
    annual_rate = Decimal(annual_rate)
    if capital <= 0:
        raise ValueError("the capital must be positive")
    if annual_rate < 0:
        raise ValueError("the rate cannot be negative")
    if deferral < 0 or months < 1:
        raise ValueError("at least one instalment, and no negative deferral")
    r = monthly_rate(annual_rate)
    lines: list[Line] = []
    remaining = capital
    for month in range(deferral):
        interest = cents(remaining * r)
        remaining += interest
        lines.append(Line(number=month + 1, due_on=first_month + relativedelta(months=month), instalment=ZERO,
                          interest=interest, capital=-interest, remaining=remaining))
    instalment = constant_instalment(capital=remaining, annual_rate=annual_rate, months=months)
    if instalment < MINIMUM_INSTALMENT:  # its roundings would repay the capital before the last month
        raise ValueError("an instalment under 5 € a month: fewer months")
    for month in range(months):
        number = deferral + month + 1
        interest = cents(remaining * r)
        last = month == months - 1
        repaid = remaining if last else min(instalment - interest, remaining)
        remaining -= repaid
        lines.append(Line(number=number, due_on=first_month + relativedelta(months=number - 1),
                          instalment=repaid + interest, interest=interest, capital=repaid, remaining=remaining))
    return Schedule(capital=capital, annual_rate=annual_rate, months=months, deferral=deferral,
                    lines=tuple(lines))
