"""Playwright: an instructor works his queue through the instruction panel — refuses one request
with a reason, asks for documents on another, accepts a third at another amount with a reason —
and the panel is drawn in full at every common desktop width."""

import pytest
from django.core.management import call_command

from prestations.models import Demande
from tests.browser.test_benefit import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_panel_section(page, name):
    page.locator("aside.workbench-panel summary", has_text=name).click()


def test_an_instructor_decides_from_the_queue_through_the_panel(live_server, browser, artifacts):
    call_command("seed_demo", verbosity=0)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    login(page, live_server.url, "instructeur@demo.test", totp=True)
    page.goto(f"{live_server.url}/admin/prestations/demande/")
    assert page.get_by_role("link", name="Ouvertes").get_attribute("aria-current") == "page"
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 3
    header = page.locator("#result_list thead")
    assert header.get_by_text("Attente / délai").is_visible()  # the key columns, without scrolling
    page.screenshot(path=str(artifacts / "queue-1280.png"), full_page=True)
    widths = page.evaluate("[document.querySelector('#changelist .results').scrollWidth, "
                           "document.querySelector('#changelist .results').clientWidth]")
    assert widths[0] <= widths[1], widths
    numbers = [int(rows.nth(i).locator("th a, td a").first.inner_text()) for i in range(3)]

    for width in (1280, 1600, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/admin/prestations/demande/{numbers[0]}/change/")
        box = page.locator("aside.workbench-panel").bounding_box()
        assert box["width"] >= 300 and box["x"] + box["width"] <= width, (width, box)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts / "instruction-panel-1280.png"), full_page=True)

    # 1. Refuse with a reason.
    open_panel_section(page, "Refuser")
    page.get_by_label("Motif du refus (obligatoire, écrit dans la lettre)").fill("Dépense hors du champ de l'aide.")
    page.locator("aside.workbench-panel").get_by_role("button", name="Refuser").click()
    page.get_by_text(f"Demande n° {numbers[0]} refusée").wait_for()

    # 2. The next request: ask for documents, from the keyboard.
    page.get_by_role("link", name="Demande suivante").click()
    page.wait_for_url(f"**/demande/{numbers[1]}/change/")
    open_panel_section(page, "Demander des pièces")
    field = page.get_by_label("Ce qui manque (message à l'agent)")
    field.fill("Le justificatif est illisible.")
    field.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_text(f"Demande n° {numbers[1]} : pièces demandées à l'agent.").wait_for()

    # 3. The next one: another amount, with its reason.
    page.get_by_role("link", name="Demande suivante").click()
    page.wait_for_url(f"**/demande/{numbers[2]}/change/")
    third = Demande.objects.get(pk=numbers[2])
    other_amount = "1,00" if third.amount_computed != 1 else "2,00"
    page.get_by_label("Montant accordé").fill(other_amount)
    page.locator("aside.workbench-panel").get_by_role("button", name="Accepter").click()
    page.get_by_text("Un montant différent de la règle").wait_for()
    page.get_by_label("Montant accordé").fill(other_amount)
    page.get_by_label("Motif si le montant diffère").fill("Reste à charge du foyer.")
    page.locator("aside.workbench-panel").get_by_role("button", name="Accepter").click()
    page.get_by_text(f"Demande n° {numbers[2]} acceptée : {other_amount} €.").wait_for()

    statuses = dict(Demande.objects.filter(pk__in=numbers).values_list("pk", "status"))
    assert statuses == {numbers[0]: "refused", numbers[1]: "awaiting_documents", numbers[2]: "accepted"}
    third.refresh_from_db()
    assert third.amount_change_reason == "Reste à charge du foyer."

    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/admin/prestations/demande/{numbers[2]}/change/")
    assert page.locator("aside.workbench-panel").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(artifacts / "instruction-375.png"), full_page=True)


def test_the_workbench_pages_pass_axe(live_server, browser):
    from tests.browser.test_accessibility import violations

    call_command("seed_demo", verbosity=0)
    demande = Demande.objects.filter(status="submitted").order_by("submitted_at").first()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    login(page, live_server.url, "instructeur@demo.test", totp=True)
    found = []
    for path in ("/admin/", "/admin/prestations/demande/", "/admin/prestations/demande/?file=retard",
                 f"/admin/prestations/demande/{demande.pk}/change/"):
        assert page.goto(live_server.url + path).status == 200
        found += violations(page)
    from adhesions.models import ContributionScale

    scale = ContributionScale.objects.order_by("-year").first()
    accountant = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    login(accountant, live_server.url, "comptable@demo.test", totp=True)
    for path in ("/admin/", f"/admin/adhesions/contributionscale/{scale.pk}/campagne/",
                 "/admin/adhesions/contributionscale/", "/admin/prestations/paymentbatch/",
                 "/admin/adhesions/contributioncall/", "/admin/cnas/exportjob/"):
        assert accountant.goto(live_server.url + path).status == 200, path
        found += violations(accountant)
    assert found == []
