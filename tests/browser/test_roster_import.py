"""Playwright: a correspondent logs in with his second factor, imports a CSV and confirms it."""

import pytest

from accounts.demo import current_totp_code
from accounts.models import Agent
from adhesions.models import RosterImport
from tests.conftest import TOTP_SECRET, make_tenant
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "Matricule;Nom;Prénom;Date de naissance;E-mail;Date d'entrée;Statut\n"
    "N1;Durand;Émilie;03/02/1990;emilie.durand@exemple.test;01/03/2020;actif\n"
    "N2;Petit;Luc;15/07/1975;;01/01/1999;actif\n"
)


def test_correspondent_imports_a_csv_and_confirms_it(live_server, page, artifacts, tmp_path):
    tenant = make_tenant("x")
    path = tmp_path / "effectif.csv"
    path.write_bytes(CSV.encode("cp1252"))

    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Courriel").fill(tenant.correspondent.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Connexion").click()
    page.get_by_label("Code").fill(current_totp_code(TOTP_SECRET))
    page.locator("main").get_by_role("button").first.click()
    page.wait_for_url(f"{live_server.url}/collectivite/{tenant.employer.pk}/")

    page.get_by_role("link", name="Imports", exact=True).click()
    page.get_by_label("Fichier CSV ou XLSX").set_input_files(str(path))
    page.get_by_role("button", name="Vérifier le fichier").click()
    page.get_by_role("button", name="Confirmer l'import").wait_for()
    assert page.get_by_role("cell", name="DURAND Émilie").is_visible()
    page.set_viewport_size({"width": 375, "height": 812})
    page.screenshot(path=str(artifacts / "import-apercu-375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(artifacts / "import-apercu-1280.png"), full_page=True)

    page.get_by_role("button", name="Confirmer l'import").click()
    page.get_by_text("Appliqué", exact=True).wait_for()
    assert RosterImport.objects.get().status == RosterImport.Status.APPLIED
    assert Agent.objects.filter(last_name__in=["Durand", "Petit"]).count() == 2

    page.get_by_role("link", name="Effectif", exact=True).click()
    page.get_by_label("Nom, prénom ou matricule").fill("durand")
    page.get_by_role("button", name="Filtrer").click()
    assert page.get_by_role("link", name="DURAND Émilie").is_visible()
    page.screenshot(path=str(artifacts / "effectif-1280.png"), full_page=True)
