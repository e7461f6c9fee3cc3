import datetime
from decimal import Decimal

import pytest

from prestations.models import Bracket, Prestation

TODAY = datetime.date.today()


def prestation(**kwargs) -> Prestation:
    values = {"code": "aide", "name": "Aide", "category": "aid", "description": "Une aide.",
              "amount_rule": "fixed", "fixed_amount": Decimal("230.00"), "valid_from": datetime.date(2020, 1, 1),
              "documents": "", **kwargs}
    return Prestation.objects.create(**values)


@pytest.fixture
def birth_aid(db):
    return prestation(code="naissance", name="Aide à la naissance", event="birth", days_after_event=365,
                      child_max_age=0, documents="Acte de naissance")


@pytest.fixture
def school_aid(db):
    aid = prestation(code="rentree", name="Aide à la rentrée", event="school_year", amount_rule="brackets",
                     fixed_amount=None, days_after_event=120, child_min_age=3, child_max_age=18)
    Bracket.objects.bulk_create([Bracket(prestation=aid, qf_max=Decimal("600"), amount=Decimal("150")),
                                 Bracket(prestation=aid, qf_max=Decimal("1200"), amount=Decimal("80")),
                                 Bracket(prestation=aid, qf_max=None, amount=Decimal("50"))])
    return aid


@pytest.fixture
def relief(db):
    return prestation(code="secours", name="Secours", amount_rule="share", fixed_amount=None,
                      share_percent=Decimal("50"), share_ceiling=Decimal("1500.00"),
                      yearly_ceiling=Decimal("1500.00"), once_per_event=False)
