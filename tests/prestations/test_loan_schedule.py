"""The loan schedule to the cent: worked examples, then properties over every amount, rate, duration and
deferral a product can offer (hypothesis)."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prestations.loans.schedule import compute, constant_instalment

D = Decimal
FIRST = datetime.date(2027, 1, 5)


def test_the_textbook_example_to_the_cent():
    # 10,000 € at 6 % a year over 12 months: the instalment every amortisation table gives
    assert constant_instalment(capital=D("10000"), annual_rate=D("6"), months=12) == D("860.66")
    schedule = compute(capital=D("10000"), annual_rate=D("6"), months=12, first_month=FIRST)
    assert schedule.lines[0].interest == D("50.00") and schedule.lines[0].capital == D("810.66")
    assert schedule.lines[1].interest == D("45.95")  # 9,189.34 × 0.5 % = 45.9467 → 45.95
    assert schedule.lines[-1].remaining == D("0.00")


def test_an_adoption_loan_of_3000_over_30_months_at_1_percent():
    schedule = compute(capital=D("3000"), annual_rate=D("1.00"), months=30, first_month=FIRST)
    assert [line.instalment for line in schedule.lines[:29]] == [D("101.30")] * 29
    assert schedule.last_instalment == D("101.19")  # the rounding differences, so the capital is repaid exactly
    assert schedule.total_due == D("3038.89") and schedule.cost == D("38.89") == schedule.total_interest
    assert schedule.apr == D("1.00")
    assert schedule.lines[-1].due_on == datetime.date(2029, 6, 5)


def test_a_zero_rate_loan_puts_the_remainder_on_the_last_instalment():
    schedule = compute(capital=D("1000"), annual_rate=D("0"), months=3, first_month=datetime.date(2027, 1, 31))
    assert [(line.due_on, line.instalment) for line in schedule.lines] == [
        (datetime.date(2027, 1, 31), D("333.33")), (datetime.date(2027, 2, 28), D("333.33")),
        (datetime.date(2027, 3, 31), D("333.34"))]
    assert schedule.cost == 0 and schedule.apr == 0


def test_a_deferral_adds_its_interest_to_the_capital():
    schedule = compute(capital=D("3000"), annual_rate=D("2.5"), months=24, first_month=FIRST, deferral=3)
    deferred = schedule.lines[:3]
    assert [line.instalment for line in deferred] == [D("0.00")] * 3
    assert deferred[0].interest == D("6.25") and deferred[0].remaining == D("3006.25")
    assert len(schedule.lines) == 27 and schedule.lines[3].due_on == datetime.date(2027, 4, 5)
    assert schedule.instalment == constant_instalment(capital=deferred[-1].remaining, annual_rate=D("2.5"), months=24)
    assert schedule.apr == D("2.53")  # the actuarial rate of 2.5 % nominal, paid monthly


@pytest.mark.parametrize("arguments", [
    {"capital": D("0"), "annual_rate": D("1"), "months": 12},
    {"capital": D("-5"), "annual_rate": D("1"), "months": 12},
    {"capital": D("100"), "annual_rate": D("-1"), "months": 12},
    {"capital": D("100"), "annual_rate": D("1"), "months": 0},
    {"capital": D("50"), "annual_rate": D("3.9"), "months": 120},  # 0.51 € a month
])
def test_impossible_loans_are_refused(arguments):
    with pytest.raises(ValueError):
        compute(first_month=FIRST, **arguments)


loans = st.fixed_dictionaries({
    "capital": st.decimals(min_value=D("300"), max_value=D("30000"), places=2),
    "annual_rate": st.sampled_from([D("0"), D("0.5"), D("1"), D("1.25"), D("2"), D("3.9"), D("7.5")]),
    "months": st.integers(min_value=1, max_value=60),
    "deferral": st.integers(min_value=0, max_value=6),
})


@settings(max_examples=400, deadline=None)
@given(loans)
def test_properties_of_every_schedule(loan):
    schedule = compute(first_month=FIRST, **loan)
    lines = schedule.lines
    assert len(lines) == loan["months"] + loan["deferral"]
    # the capital lent is repaid exactly, the deferred interest included
    assert sum(line.capital for line in lines) == schedule.capital and lines[-1].remaining == 0
    # never a negative instalment, never a negative capital due
    assert all(line.instalment >= 0 and line.remaining >= 0 for line in lines)
    # every amount to the cent, and each line adds up
    assert all(line.instalment == line.capital + line.interest for line in lines)
    assert all(value == value.quantize(D("0.01")) for line in lines
               for value in (line.instalment, line.interest, line.capital, line.remaining))
    # the cost is the interest: the instalments less the capital
    assert schedule.total_interest == schedule.total_due - schedule.capital == schedule.cost
    # constant instalments: only the last differs, by the rounding (a cent per month at most)
    paying = lines[loan["deferral"]:]
    assert len({line.instalment for line in paying[:-1]}) <= 1
    assert abs(paying[-1].instalment - paying[0].instalment) <= D("0.01") * len(paying)
    # each month's interest is the remaining capital × the monthly rate, half-up to the cent
    before = schedule.capital
    for line in lines:
        assert line.interest == (before * loan["annual_rate"] / 1200).quantize(D("0.01"), rounding="ROUND_HALF_UP")
        before = line.remaining
    # months follow each other from the first
    assert [line.number for line in lines] == list(range(1, len(lines) + 1))
    if not loan["annual_rate"]:
        assert schedule.cost == 0 and schedule.apr == 0
    elif schedule.capital >= 1000:  # on a small capital, the cents of rounding move the rate visibly
        actuarial = ((1 + loan["annual_rate"] / 1200) ** 12 - 1) * 100
        assert abs(schedule.apr - actuarial) <= D("0.05")
