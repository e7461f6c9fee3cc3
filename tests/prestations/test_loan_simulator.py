"""The loan simulator on a loan prestation's page: the schedule of the amount and duration chosen, to the cent,
from the same computation as the contract; bad input gets a French message and no schedule."""

import datetime
import html
from decimal import Decimal

import pytest
from django.urls import reverse

from prestations.loans.schedule import compute, first_line_month
from prestations.models import Demande, LoanProduct
from tests.prestations.conftest import prestation

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


@pytest.fixture
def adoption_loan(db):
    loan = prestation(code="pret-adoption", name="Prêt adoption", category="loan", amount_rule="loan",
                      fixed_amount=None, description="Un prêt pour les frais d'adoption.")
    LoanProduct.objects.create(prestation=loan, min_amount=Decimal("500"), max_amount=Decimal("3000"),
                               durations=[12, 24, 30], annual_rate=Decimal("1.000"), max_deferral_months=3)
    return loan


@pytest.fixture
def agent_client(client, tenant_a):
    client.force_login(tenant_a.agent_user)
    return client


def url(loan, **query):
    from urllib.parse import urlencode

    return reverse("espace:prestation", args=[loan.code]) + ("?" + urlencode(query) if query else "")


def test_the_simulator_shows_the_schedule_to_the_cent(agent_client, adoption_loan):
    response = agent_client.get(url(adoption_loan, amount="3 000", months=30))
    assert response.status_code == 200
    text = page_text(response)
    assert "30 mensualités de 101,30 €" in text and "(la dernière : 101,19 €)" in text
    assert "TAEG fixe 1,00 %" in text and "vous remboursez 3 038,89 € en tout, dont 38,89 € d'intérêts" in text
    assert response.content.decode().count("<tr><td>") == 30
    expected = compute(capital=Decimal("3000"), annual_rate=Decimal("1"), months=30,
                       first_month=first_line_month(datetime.date.today()))
    assert expected.lines[-1].due_on.strftime("%d/%m/%Y") in text
    assert "Commencer ma demande" not in text  # the request of a loan is not open online yet: nothing to post


def test_a_deferral_is_offered_and_shown(agent_client, adoption_loan):
    text = page_text(agent_client.get(url(adoption_loan, amount="1500", months=12, deferral=2)))
    assert "après 2 mois de différé" in text and text.count("différé</td>") == 2


@pytest.mark.parametrize(("query", "message"), [
    ({"amount": "99999", "months": 12}, "Le montant doit être compris entre 500,00 € et 3 000,00 €."),
    ({"amount": "beaucoup", "months": 12}, "Saisissez un montant"),
    ({"amount": "1000", "months": 7}, "Sélectionnez un choix valide"),
    ({"amount": "1000", "months": 12, "deferral": 9}, "Sélectionnez un choix valide"),
])
def test_bad_input_gets_a_french_message_and_no_schedule(agent_client, adoption_loan, query, message):
    response = agent_client.get(url(adoption_loan, **query))
    assert response.status_code == 200
    text = page_text(response)
    assert message in text and "Tableau d'amortissement" not in text


def test_posting_a_loan_prestation_creates_nothing(agent_client, adoption_loan):
    response = agent_client.post(url(adoption_loan), {"amount": "1000", "months": 12}, follow=True)
    assert response.status_code == 200 and "pas encore ouverte" in page_text(response)
    assert not Demande.objects.exists()


def test_the_eligibility_says_to_simulate(agent_client, adoption_loan):
    text = page_text(agent_client.get(url(adoption_loan)))
    assert "Choisissez le montant et la durée" in text and "Simuler mes mensualités" in text


def test_anonymous_visitors_are_sent_to_the_login(client, adoption_loan):
    response = client.get(url(adoption_loan, amount="1000", months=12))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_a_product_out_of_bounds_is_refused_by_the_database(adoption_loan):
    from django.db import IntegrityError, transaction

    other = prestation(code="pret-2", name="Prêt 2", category="loan", amount_rule="loan", fixed_amount=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanProduct.objects.create(prestation=other, min_amount=Decimal("500"), max_amount=Decimal("100"),
                                   durations=[12], annual_rate=Decimal("1"))
    with pytest.raises(IntegrityError), transaction.atomic():
        LoanProduct.objects.create(prestation=other, min_amount=Decimal("500"), max_amount=Decimal("1000"),
                                   durations=[], annual_rate=Decimal("1"))


def test_staff_add_a_loan_product_in_the_admin_and_agents_simulate_it(client, tenant_a):
    """The real path: a product typed in the admin (amounts the French way, durations comma-separated), audited,
    then simulated by an agent."""
    from cnas.models import AuditEntry
    from tests import factories
    from tests.conftest import enroll_totp

    loan = prestation(code="pret-equipement", name="Prêt équipement", category="loan", amount_rule="loan",
                      fixed_amount=None)
    staff = enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True))
    client.force_login(staff)
    form = {"prestation": loan.pk, "min_amount": "300", "max_amount": "2 000,00", "durations": "12,24",
            "annual_rate": "0,5", "max_deferral_months": "0", "debt_ratio_limit": "33"}
    response = client.post(reverse("admin:prestations_loanproduct_add"), {**form, "durations": ""})
    assert response.status_code == 200 and not LoanProduct.objects.exists()  # durations required: nothing saved
    response = client.post(reverse("admin:prestations_loanproduct_add"), form)
    assert response.status_code == 302, page_text(response)[:3000]
    product = LoanProduct.objects.get()
    assert product.durations == [12, 24] and product.annual_rate == Decimal("0.5")
    assert AuditEntry.objects.filter(object_id=str(product.pk)).exists()
    client.force_login(tenant_a.agent_user)
    text = page_text(client.get(url(loan, amount="1200", months=24)))
    assert "24 mensualités de 50,26 €" in text  # 1,200 € at 0.5 % over 24 months
