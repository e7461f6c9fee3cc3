"""Playwright: amounts typed the French way in every form where a person types money — the
agent's expense, the instructor's amount granted, the correspondent's payroll, the COS
administrator's action prices and a member's fee — are saved to the cent."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import Agent
from adhesions.models import PayrollDeclaration
from cnas.pdf import blank_pdf
from cos.models import CosMember, LocalAction, MemberFee
from prestations.models import Demande
from tests.browser.test_benefit import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = blank_pdf()


def test_french_amounts_in_every_form(live_server, browser, artifacts, tmp_path):
    call_command("seed_demo", verbosity=0)
    today = datetime.date.today()
    invoice = tmp_path / "facture.pdf"
    invoice.write_bytes(PDF)

    # the agent: an expense of 450,50 € for a child's holiday (40 %: 180,20 €)
    agent = browser.new_page(viewport={"width": 375, "height": 812}, locale="fr-FR")
    login(agent, live_server.url, "agent@demo.test")
    agent.goto(f"{live_server.url}/espace/prestations/sejour-enfant/")
    agent.get_by_label("Montant de la dépense (€)").fill("450,50")
    agent.get_by_role("button", name="Simuler").click()
    agent.get_by_text("vous pouvez demander 180,20").wait_for()
    agent.get_by_role("button", name="Commencer ma demande").click()
    agent.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo au plus)").set_input_files(str(invoice))
    agent.get_by_role("button", name="Ajouter la pièce").click()
    agent.get_by_role("button", name="Envoyer ma demande").click()
    agent.get_by_text("Votre demande est envoyée").wait_for()
    demande = Demande.objects.get(agent__user__email="agent@demo.test", prestation__code="sejour-enfant")
    assert demande.expense == Decimal("450.50") and demande.amount_computed == Decimal("180.20")

    # the instructor: another amount, typed « 150,75 », with its reason
    staff = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    login(staff, live_server.url, "instructeur@demo.test", totp=True)
    staff.goto(f"{live_server.url}/admin/prestations/demande/{demande.pk}/change/")
    staff.get_by_label("Montant accordé").fill("150,75")
    staff.get_by_label("Motif si le montant diffère").fill("Séjour écourté de deux jours")
    staff.locator("aside.workbench-panel").get_by_role("button", name="Accepter").click()
    staff.get_by_text(f"Demande n° {demande.pk} acceptée : 150,75 €.").wait_for()
    demande.refresh_from_db()
    assert demande.status == "accepted" and demande.amount_granted == Decimal("150.75")

    # the correspondent: a payroll of « 1 234 567,89 € »
    correspondent = browser.new_page(viewport={"width": 375, "height": 812}, locale="fr-FR")
    login(correspondent, live_server.url, "correspondant@demo.test", totp=True)
    correspondent.get_by_role("link", name="Masse salariale").first.click()
    correspondent.get_by_label("Année des salaires").fill(str(today.year))
    correspondent.get_by_label("Masse salariale brute (€)").fill("1 234 567,89 €")
    correspondent.get_by_role("button", name="Déclarer").click()
    correspondent.get_by_text(f"Votre déclaration {today.year} est enregistrée.").wait_for()
    declaration = PayrollDeclaration.objects.filter(adherent__name="Ville de Saint-Aubin-sur-Loire",
                                                    year=today.year).latest("declared_at")
    assert declaration.gross_payroll == Decimal("1234567.89")

    # the COS administrator: an action at « 5,50 » per adult and « 2,5 » per child, then a fee of « 25,50 »
    cos = browser.new_page(viewport={"width": 375, "height": 812}, locale="fr-FR")
    login(cos, live_server.url, "cos@demo.test", totp=True)
    cos.get_by_role("link", name="Actions locales").first.click()
    cos.get_by_label("Titre").fill("Sortie au cirque")
    cos.get_by_label("Date et heure").fill((today + datetime.timedelta(days=40)).strftime("%Y-%m-%dT14:00"))
    cos.get_by_label("Lieu").fill("Chapiteau du parc")
    cos.get_by_label("Places").fill("80")
    cos.get_by_label("Prix par adulte (€)").fill("5,50")
    cos.get_by_label("Prix par enfant (€)").fill("2,5")
    cos.get_by_label("Inscriptions jusqu'au").fill((today + datetime.timedelta(days=30)).isoformat())
    cos.get_by_role("button", name="Créer l’action").click()
    cos.wait_for_load_state()
    action = LocalAction.objects.get(title="Sortie au cirque")
    assert (action.price_adult, action.price_child) == (Decimal("5.50"), Decimal("2.50"))

    newcomer = (Agent.objects.filter(employments__employer__name="Ville de Saint-Aubin-sur-Loire",
                                     employments__end_date__isnull=True, status="working")
                .exclude(cos_memberships__isnull=False).select_related().first())
    line = newcomer.employments.get()
    cos.get_by_role("link", name="Membres").first.click()
    cos.get_by_label("Employeur").select_option(label="Ville de Saint-Aubin-sur-Loire")
    cos.get_by_label("Matricule").fill(line.employee_number)
    cos.get_by_label("Date de naissance").fill(newcomer.birth_date.isoformat())
    cos.get_by_label("Adhérent depuis le").fill(today.isoformat())
    cos.get_by_role("button", name="Ajouter le membre").click()
    cos.get_by_label("Montant (€)").fill("25,50")
    cos.get_by_label("Payée le").fill(today.isoformat())
    cos.get_by_role("button", name="Enregistrer la cotisation").click()
    cos.wait_for_load_state()
    fee = MemberFee.objects.get(member=CosMember.objects.get(agent=newcomer, left_on__isnull=True))
    assert fee.amount == Decimal("25.50") and fee.year == today.year
    cos.screenshot(path=str(artifacts / "cos-membre-cotisation-375.png"), full_page=True)
    assert cos.evaluate("document.documentElement.scrollWidth") <= 375
