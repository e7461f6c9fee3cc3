"""Playwright: the demo agent orders an aid; the demo staff member accepts it and pays it in
a SEPA batch; the agent sees it paid and downloads the decision."""

import datetime
import time

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_BY_EMAIL, DEMO_PASSWORD, current_totp_code
from cnas.pdf import blank_pdf
from prestations.models import Demande

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = blank_pdf()


def login(page, url, email, totp=False):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    if totp:
        page.get_by_label("Code").wait_for()
        if 30 - time.time() % 30 < 3:  # never type a code in the last seconds of its window
            time.sleep(30 - time.time() % 30 + 0.2)
        page.get_by_label("Code").fill(current_totp_code(DEMO_BY_EMAIL[email].totp_secret))
        page.locator("main").get_by_role("button").first.click()
    page.wait_for_url(lambda address: "/accounts/login/" not in address and "/accounts/2fa/" not in address)
    page.wait_for_load_state()


def test_agent_orders_staff_pays_agent_downloads(live_server, browser, artifacts, tmp_path):
    call_command("seed_demo", verbosity=0)
    certificate = tmp_path / "certificat.pdf"
    certificate.write_bytes(PDF)
    agent_page = browser.new_page(viewport={"width": 375, "height": 812}, locale="fr-FR")
    login(agent_page, live_server.url, "agent@demo.test")
    agent_page.get_by_role("link", name="Prestations", exact=True).click()
    agent_page.get_by_role("link", name="Aide à la rentrée scolaire").click()
    agent_page.get_by_label("Enfant concerné").select_option(label="Hugo MARTIN (enfant)")
    agent_page.get_by_role("button", name="Simuler").click()
    assert agent_page.get_by_text("vous pouvez demander 50,00").is_visible()
    agent_page.screenshot(path=str(artifacts / "prestation-375.png"), full_page=True)
    agent_page.get_by_role("button", name="Commencer ma demande").click()
    agent_page.get_by_label("Fichier (PDF, JPEG ou PNG, 10 Mo au plus)").set_input_files(str(certificate))
    agent_page.get_by_role("button", name="Ajouter la pièce").click()
    agent_page.get_by_role("button", name="Envoyer ma demande").click()
    agent_page.get_by_text("Votre demande est envoyée").wait_for()
    assert agent_page.evaluate("document.documentElement.scrollWidth") <= 375
    agent_page.screenshot(path=str(artifacts / "demande-375.png"), full_page=True)
    demande = Demande.objects.get(agent__user__email="agent@demo.test")
    assert demande.status == "submitted" and demande.amount_computed == 50

    staff_page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    login(staff_page, live_server.url, "instructeur@demo.test", totp=True)
    staff_page.goto(f"{live_server.url}/admin/prestations/demande/?status__exact=submitted")
    staff_page.get_by_role("link", name=str(demande.pk), exact=True).click()
    staff_page.get_by_role("button", name="Accepter").click()
    staff_page.get_by_text(f"Demande n° {demande.pk} acceptée : 50,00 €.").wait_for()
    staff_page.screenshot(path=str(artifacts / "instruction-1280.png"), full_page=True)
    staff_page.close()  # the instructor decides; the accountant pays
    staff_page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    login(staff_page, live_server.url, "comptable@demo.test", totp=True)
    staff_page.goto(f"{live_server.url}/admin/prestations/paymentbatch/")
    staff_page.get_by_role("button", name="Préparer un lot avec les demandes acceptées").click()
    staff_page.goto(f"{live_server.url}/admin/prestations/paymentbatch/")
    staff_page.locator("input.action-select").first.check()
    staff_page.select_option("select[name=action]", "confirm_sent")
    staff_page.get_by_role("button", name="Envoyer").click()
    staff_page.get_by_text("Envoi confirmé.").wait_for()
    demande.refresh_from_db()
    assert demande.status == "paid"

    agent_page.reload()
    assert agent_page.get_by_text("Payée").first.is_visible()
    with agent_page.expect_download() if False else agent_page.expect_response(
            lambda r: r.url.endswith("/decision/")) as response:
        agent_page.get_by_role("link", name="Télécharger la lettre de décision (PDF)").click()
    assert response.value.status == 200 and response.value.headers["content-type"] == "application/pdf"
    assert datetime.date.today()
