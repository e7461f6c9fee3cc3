"""axe-core (WCAG 2.1 A and AA) on the pages each persona uses, at phone width."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from accounts.demo import DEMO_BY_EMAIL, DEMO_PASSWORD, current_totp_code
from adhesions.models import Adherent, Employment
from cos.models import LocalAction
from prestations.models import Demande

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def violations(page) -> list[str]:
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    return [f"{page.url} {v['id']}: {v['help']} ({len(v['nodes'])})" for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


def login(page, url, email):
    page.goto(url + "/accounts/login/")
    page.get_by_label("Courriel").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    if DEMO_BY_EMAIL[email].totp_secret:
        page.get_by_label("Code").fill(current_totp_code(DEMO_BY_EMAIL[email].totp_secret))
        page.locator("main").get_by_role("button").first.click()
    page.wait_for_load_state()


def test_the_pages_of_every_persona(live_server, browser):
    call_command("seed_demo", verbosity=0)
    saint_aubin = Adherent.objects.get(name="Ville de Saint-Aubin-sur-Loire")
    cos = Adherent.objects.get(name="COS de Saint-Aubin-sur-Loire")
    line = Employment.objects.filter(employer=saint_aubin).first()
    demande = Demande.objects.first()
    action = LocalAction.objects.first()
    plan = {
        "agent@demo.test": ["/espace/", "/espace/prestations/", "/espace/prestations/rentree/", "/espace/demandes/",
                            "/espace/actions/", "/espace/banque/", "/espace/impots/", "/espace/foyer/ajouter/",
                            "/compte/"],
        "correspondant@demo.test": [f"/collectivite/{saint_aubin.pk}/", f"/collectivite/{saint_aubin.pk}/agents/",
                                    f"/collectivite/{saint_aubin.pk}/agents/{line.pk}/",
                                    f"/collectivite/{saint_aubin.pk}/agents/ajouter/",
                                    f"/collectivite/{saint_aubin.pk}/imports/",
                                    f"/collectivite/{saint_aubin.pk}/masse-salariale/",
                                    f"/collectivite/{saint_aubin.pk}/cotisations/",
                                    f"/collectivite/{saint_aubin.pk}/attestations/",
                                    f"/collectivite/{saint_aubin.pk}/correspondants/"],
        "cos@demo.test": [f"/cos/{cos.pk}/", f"/cos/{cos.pk}/membres/", f"/cos/{cos.pk}/actions/",
                          f"/cos/{cos.pk}/actions/{action.pk}/", f"/cos/{cos.pk}/convention/",
                          f"/cos/{cos.pk}/membres/import/"],
    }
    found = []
    for email, paths in plan.items():
        page = browser.new_page(viewport={"width": 375, "height": 812}, locale="fr-FR")
        login(page, live_server.url, email)
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            found += violations(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        page.close()
    anonymous = browser.new_page(viewport={"width": 375, "height": 812}, locale="fr-FR")
    for path in ["/", "/adherer/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]:
        anonymous.goto(live_server.url + path)
        found += violations(anonymous)
    assert found == []
    assert demande is not None
