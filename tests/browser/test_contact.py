"""The contact page on a phone: the demo agent finds his delegation and writes to it; a visitor sees
every delegation. No horizontal scroll at 375 px, no serious accessibility violation."""

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from tests.browser.test_agent_home import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_agent_writes_to_his_delegation_from_a_phone(live_server, page, artifacts):
    call_command("seed_demo", verbosity=0)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + "/contact/")
    assert page.get_by_role("heading", level=1).inner_text() == "Contacter une délégation régionale"
    assert page.locator("a[href^='tel:']").count() >= 3 and page.locator("textarea").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts / "contact-visiteur-375.png"), full_page=True)

    page.get_by_role("link", name="connectez-vous").click()
    page.get_by_label("Courriel").fill("agent@demo.test")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(live_server.url + "/contact/")
    assert page.title().startswith("Contact — délégation ")
    assert page.locator("a[href^='tel:']").count() == 1 and page.locator("a[href^='mailto:']").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts / "contact-agent-375.png"), full_page=True)

    page.get_by_label("Objet").select_option(label="Mon compte")
    page.get_by_label("Votre message").fill("Bonjour, je ne reçois plus vos e-mails.")
    page.get_by_role("button", name="Envoyer le message").click()
    page.wait_for_load_state()
    assert "Votre message est envoyé à la délégation" in page.locator(".messages").inner_text()
    assert serious_violations(page) == []
    assert any("je ne reçois plus vos e-mails" in m.body for m in mail.outbox)
