"""Playwright: the demo agent, a member of his COS, registers his children to the Christmas tree."""

import pytest
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD
from cos.models import Registration

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_demo_agent_registers_his_children(live_server, page, artifacts):
    call_command("seed_demo", verbosity=0)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Courriel").fill("agent@demo.test")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_role("link", name="Mon COS").click()
    page.get_by_role("heading", name="Arbre de Noël des enfants").wait_for()
    page.get_by_label("Moi").uncheck()
    page.get_by_label("Léa (enfant)").check()
    page.get_by_label("Hugo (enfant)").check()
    page.get_by_role("button", name="M'inscrire").click()
    page.get_by_text("Inscription confirmée.").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(artifacts / "cos-actions-375.png"), full_page=True)
    registration = Registration.objects.get(member__agent__user__email="agent@demo.test")
    assert registration.seats == 2 and registration.status == "confirmed" and registration.amount == 0
