"""Rule 9: two instructors accepting two requests of the same agent for the same prestation at
the same moment never grant more than the yearly ceiling — real concurrent transactions, each
thread on its own connection."""

import time
from decimal import Decimal

import pytest

from cnas import locks
from prestations import services
from prestations.models import Demande
from tests.prestations.conftest import prestation, submitted
from tests.workers import at_the_same_moment

pytestmark = pytest.mark.django_db(transaction=True)


def accept_both_at_once(demandes) -> list[Exception]:
    return at_the_same_moment(lambda demande: services.accept(actor=None, demande=demande), demandes)[1]


@pytest.fixture
def two_requests(tenant_a, monkeypatch):
    """Two requests of 1,000 € each (half of 2,000 € of expense) against a yearly ceiling of
    1,500 €; reading the verdict takes a moment, so that the two acceptances overlap."""
    aid = prestation(code="secours", name="Secours", amount_rule="share", fixed_amount=None,
                     share_percent=Decimal("50"), yearly_ceiling=Decimal("1500.00"), once_per_event=False)
    demandes = [submitted(tenant_a.agent, aid, expense=Decimal("2000")) for _ in range(2)]
    assert [d.amount_computed for d in demandes] == [Decimal("1000.00")] * 2
    slow = services.verdict_for

    def verdict_then_pause(*args, **kwargs):
        verdict = slow(*args, **kwargs)
        time.sleep(0.3)
        return verdict

    monkeypatch.setattr(services, "verdict_for", verdict_then_pause)
    return demandes


def test_concurrent_acceptances_never_exceed_the_yearly_ceiling(two_requests):
    assert accept_both_at_once(two_requests) == []
    granted = sorted(Demande.objects.filter(status="accepted").values_list("amount_granted", flat=True))
    assert granted == [Decimal("500.00"), Decimal("1000.00")]  # the second sees the first: 1,500 € in all


def test_without_the_lock_the_same_race_grants_too_much(two_requests, monkeypatch):
    """The proof that the test above can fail: take the lock away and both are granted in full."""
    monkeypatch.setattr(locks, "lock", lambda *args, **kwargs: None)
    assert accept_both_at_once(two_requests) == []
    assert sum(Demande.objects.filter(status="accepted").values_list("amount_granted", flat=True)) == Decimal(
        "2000.00")


def test_a_lock_held_too_long_asks_to_try_again(two_requests, monkeypatch):
    """The second instructor does not wait forever: past the timeout, a French « réessayez »."""
    monkeypatch.setattr(locks, "lock", lambda kind, key, timeout_ms=3000: LOCK(kind, key, timeout_ms=100))
    monkeypatch.setattr(services, "verdict_for", _slower(services.verdict_for))
    errors = accept_both_at_once(two_requests)
    assert [str(e.messages[0]) for e in errors] == [
        "Trop de demandes en même temps sur cet élément : réessayez dans un instant."]
    assert Demande.objects.filter(status="accepted").count() == 1
    assert Demande.objects.filter(status="submitted").count() == 1  # nothing half-done


LOCK = locks.lock


def _slower(verdict_for):
    def wait(*args, **kwargs):
        time.sleep(0.5)
        return verdict_for(*args, **kwargs)

    return wait
