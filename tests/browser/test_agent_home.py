"""Playwright on Debian's Chromium: the demo agent logs in and sees his home page."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from accounts.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def serious_violations(page) -> list[str]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


def test_demo_agent_logs_in_and_sees_his_home(live_server, page, artifacts):
    call_command("seed_demo", verbosity=0)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/")
    assert serious_violations(page) == []
    page.get_by_role("link", name="Se connecter").first.click()
    page.get_by_label("Courriel").fill("agent@demo.test")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.wait_for_url(live_server.url + "/espace/")
    assert page.get_by_role("heading", level=1).inner_text() == "Bonjour Julien"
    assert page.get_by_text("Ville de Saint-Aubin-sur-Loire").first.is_visible()
    assert page.get_by_role("cell", name="Léa").is_visible() or page.get_by_text("Léa MARTIN").is_visible()
    assert page.locator(".badge-ok").inner_text() == "Couvert"
    assert serious_violations(page) == []
    page.screenshot(path=str(artifacts / "espace-agent-1280.png"), full_page=True)

    page.set_viewport_size({"width": 375, "height": 812})
    page.reload()
    page.screenshot(path=str(artifacts / "espace-agent-375.png"), full_page=True)
    # Nothing wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    # The skip link is the first stop of the keyboard and leads to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
