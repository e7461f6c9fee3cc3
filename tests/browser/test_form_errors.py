"""Playwright: a form sent with mistakes, at phone width, shows each error once beside its field,
the input names it (what a screen reader reads), and axe finds nothing serious."""

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from adhesions.models import Adherent
from tests.browser.test_accessibility import login, violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = """(element) => (element.getAttribute('aria-describedby') || '').split(' ').filter(Boolean)
    .map((id) => document.getElementById(id).textContent.trim())"""


def test_payroll_declaration_with_mistakes(live_server, browser, artifacts):
    call_command("seed_demo", verbosity=0)
    adherent = Adherent.objects.get(name="Ville de Saint-Aubin-sur-Loire")
    page = browser.new_page(viewport={"width": 375, "height": 812}, locale="fr-FR")
    login(page, live_server.url, "correspondant@demo.test")
    page.goto(f"{live_server.url}/collectivite/{adherent.pk}/masse-salariale/")
    page.get_by_label("Année").fill("1990")
    page.get_by_label("Masse salariale brute (€)").fill("douze")
    page.get_by_role("button", name="Déclarer").click()
    page.wait_for_load_state()
    payroll = page.get_by_label("Masse salariale brute (€)")
    assert payroll.get_attribute("aria-invalid") == "true"
    assert payroll.evaluate(DESCRIPTION) == [
        "Total des rémunérations brutes de l'année, en euros (par exemple 1 234 567,89).",
        "Saisissez un montant en euros, par exemple 1 234,56."]
    assert page.get_by_text("Saisissez un montant en euros, par exemple 1 234,56.").count() == 1
    assert page.get_by_text("Déclarez une des cinq dernières années (ou l'année en cours).").count() == 1
    assert violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(artifacts / "masse-salariale-erreurs-375.png"), full_page=True)
    page.close()


def test_login_with_a_wrong_password(live_server, page, artifacts):
    call_command("seed_demo", verbosity=0)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Courriel").fill("agent@demo.test")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD + "x")
    page.get_by_role("button", name="Connexion").click()
    alert = page.get_by_role("alert")
    assert alert.inner_text().strip() == "L’adresse e-mail ou le mot de passe sont incorrects."
    assert page.get_by_text("L’adresse e-mail ou le mot de passe sont incorrects.").count() == 1
    assert page.title() == "Connexion — CNAS"
    assert violations(page) == []
    page.screenshot(path=str(artifacts / "connexion-erreur-375.png"), full_page=True)
