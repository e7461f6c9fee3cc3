"""The contribution arithmetic: the README's worked example and the edges."""

import datetime
from decimal import Decimal

import pytest
from django.db.backends.postgresql.psycopg_any import DateRange

from adhesions.computation import compute
from adhesions.models import ContributionScale, PayrollDeclaration
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date
Y = 2027


def scale(**kwargs) -> ContributionScale:
    values = {"year": Y, "employer_mode": "payroll", "payroll_rate": Decimal("0.86"),
              "floor_per_agent": Decimal("150"), "ceiling_per_agent": Decimal("400"),
              "flat_per_agent": Decimal("205"), "cos_per_agent": Decimal("120"),
              "retired_flat": Decimal("137.80"), "due_date": D(Y, 3, 31), **kwargs}
    return ContributionScale.objects.create(**values)


def cover(adherent, count, start, source="employment"):
    for _ in range(count):
        factories.CoverageFactory(adherent=adherent, source=source, period=DateRange(start, None, "[)"))


def declare(adherent, amount, year=Y - 1):
    PayrollDeclaration.objects.create(adherent=adherent, year=year, gross_payroll=Decimal(amount),
                                      working_headcount=0, retired_headcount=0)


@pytest.fixture
def commune():
    """The README's worked example: 40 agents and 5 retired on 1 January, one agent arriving
    on 1 September (4 months) and one on 15 September (3 months), payroll 1,500,000.00 €."""
    adherent = factories.AdhesionFactory(start_date=D(2010, 1, 1), covers_retired=True).adherent
    cover(adherent, 40, D(2015, 1, 1))
    cover(adherent, 5, D(2020, 7, 1), source="retirement")
    cover(adherent, 1, D(Y, 9, 1))
    cover(adherent, 1, D(Y, 9, 15))
    declare(adherent, "1500000.00")
    return adherent


def one(s, adherent):
    (row,) = compute(s, adherent_id=adherent.pk)
    return row


def test_worked_example(commune):
    row = one(scale(), commune)
    assert row.working.quantize(Decimal("0.0001")) == Decimal("40.5833")  # 40 + 4/12 + 3/12
    assert row.retired == 5
    assert row.months == 12 and row.bound == ""
    assert row.agents_part == Decimal("12900.00")  # 0.86 % of 1,500,000
    assert row.retired_part == Decimal("689.00")  # 5 x 137.80
    assert row.amount == Decimal("13589.00")


def test_ceiling(commune):
    PayrollDeclaration.objects.filter(adherent=commune).update(gross_payroll=Decimal("3000000"))
    row = one(scale(), commune)
    assert row.bound == "plafond"
    assert row.amount == Decimal("16922.33")  # 400 x 487/12 = 16,233.333… + 689 → one rounding


def test_floor(commune):
    PayrollDeclaration.objects.filter(adherent=commune).update(gross_payroll=Decimal("500000"))
    row = one(scale(), commune)
    assert row.bound == "plancher"
    assert row.amount == Decimal("6776.50")  # 150 x 487/12 = 6,087.50 + 689


def test_no_declaration_yet_applies_the_floor(commune):
    PayrollDeclaration.objects.filter(adherent=commune).delete()
    row = one(scale(), commune)
    assert row.payroll is None and row.bound == "plancher" and row.amount == Decimal("6776.50")


def test_latest_declaration_of_the_year_before_counts(commune):
    declare(commune, "1600000.00")  # a later correction
    declare(commune, "9999999.00", year=Y)  # the current year's payroll is not used
    assert one(scale(), commune).agents_part == Decimal("13760.00")


def test_zero_agents():
    adherent = factories.AdhesionFactory(start_date=D(2010, 1, 1)).adherent
    declare(adherent, "1000.00")
    row = one(scale(), adherent)
    assert row.working == 0 and row.amount == Decimal("0.00")


def test_adhesion_starting_on_1_december_pays_one_month(commune):
    commune.adhesions.update(start_date=D(Y, 12, 1))
    row = one(scale(), commune)
    assert row.months == 1
    assert row.amount == Decimal("1132.42")  # 13,589.00 / 12 = 1,132.4166…


def test_adhesion_starting_mid_month_counts_whole_months_only(commune):
    commune.adhesions.update(start_date=D(Y, 11, 15))
    assert one(scale(), commune).months == 1  # December only
    commune.adhesions.update(start_date=D(Y, 12, 2))
    assert compute(scale(year=Y + 1, due_date=D(Y + 1, 3, 31)), adherent_id=commune.pk)[0].months == 12
    assert compute(ContributionScale.objects.get(year=Y), adherent_id=commune.pk) == []  # no whole month in Y


def test_adhesion_ending_during_the_year(commune):
    commune.adhesions.update(end_date=D(Y, 6, 30))
    assert one(scale(), commune).months == 6


def test_agent_arriving_on_31_december_counts_nothing(commune):
    s = scale()
    before = one(s, commune).working
    cover(commune, 1, D(Y, 12, 31))
    assert one(s, commune).working == before
    cover(commune, 1, D(Y, 12, 1))
    assert (one(s, commune).working - before).quantize(Decimal("0.0001")) == Decimal("0.0833")  # 1/12


def test_agents_who_left_before_1_january_do_not_count(commune):
    factories.CoverageFactory(adherent=commune, period=DateRange(D(2015, 1, 1), D(Y, 1, 1), "[)"))
    factories.CoverageFactory(adherent=commune, period=DateRange(D(2015, 1, 1), D(Y, 1, 2), "[)"))  # on 1 Jan
    assert one(scale(), commune).working.quantize(Decimal("0.0001")) == Decimal("41.5833")


def test_retired_are_not_charged_when_the_adhesion_does_not_cover_them(commune):
    commune.adhesions.update(covers_retired=False)
    assert one(scale(), commune).retired_part == 0


def test_flat_amount_per_agent_mode(commune):
    row = one(scale(employer_mode="per_agent"), commune)
    assert row.amount == Decimal("9008.58")  # 205 x 487/12 = 8,319.5833… + 689


def test_cos_pays_per_covered_member():
    cos = factories.AdhesionFactory(adherent__cos=True, start_date=D(2010, 1, 1)).adherent
    cover(cos, 10, D(2016, 1, 1), source="cos_membership")
    cover(cos, 1, D(Y, 7, 1), source="cos_membership")  # 6 months
    row = one(scale(), cos)
    assert row.kind == "cos" and row.amount == Decimal("1260.00")  # 120 x (10 + 6/12)


def test_rounding_is_half_up_once_at_the_end():
    adherent = factories.AdhesionFactory(start_date=D(Y, 7, 1)).adherent
    cover(adherent, 1, D(2016, 1, 1))
    row = one(scale(employer_mode="per_agent", flat_per_agent=Decimal("100.01")), adherent)
    assert row.amount == Decimal("50.01")  # 100.01 x 6/12 = 50.005 → 50.01 (half-even would give 50.00)


def test_pending_or_suspended_adhesions_do_not_pay(commune):
    commune.adhesions.update(status="pending")
    assert compute(scale(), adherent_id=commune.pk) == []
