from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError

from cnas import audit
from cnas.models import AuditEntry
from cnas.money import format_euros, round_cents
from cnas.validators import validate_bic, validate_french_postcode, validate_iban, validate_siret
from tests import factories


def test_round_cents_is_half_up():
    assert round_cents(Decimal("2.005")) == Decimal("2.01")
    assert round_cents(Decimal("2.004")) == Decimal("2.00")
    assert round_cents(Decimal("-2.005")) == Decimal("-2.01")
    with pytest.raises(TypeError):
        round_cents(2.005)


def test_euros_are_written_the_french_way():
    text = format_euros(Decimal("1234.5"))
    assert text.replace("\u202f", " ").replace("\xa0", " ") == "1 234,50 €"


@pytest.mark.parametrize("value", ["73282932000074", "732 829 320 00074"])
def test_valid_siret(value):
    validate_siret(value)


@pytest.mark.parametrize("value", ["73282932000075", "1234", "abcdefghijklmn"])
def test_invalid_siret_has_a_french_message(value):
    with pytest.raises(ValidationError, match="SIRET valide"):
        validate_siret(value)


def test_iban_bic_postcode():
    validate_iban("FR76 3000 6000 0112 3456 7890 189")
    validate_bic("BNPAFRPPXXX")
    validate_french_postcode("42130")
    for bad, check in [("FR76 3000 6000 0112 3456 7890 188", validate_iban), ("BNP", validate_bic),
                       ("4213", validate_french_postcode), ("99000", validate_french_postcode)]:
        with pytest.raises(ValidationError):
            check(bad)


@pytest.mark.django_db
def test_audit_record_and_history_query():
    user = factories.UserFactory()
    adherent = factories.AdherentFactory()
    entry = audit.record(actor=user, action="test.action", target=adherent, reason="parce que",
                         changes={"champ": [1, 2]})
    assert entry.content_type == ContentType.objects.get_for_model(adherent)
    assert list(AuditEntry.objects.for_object(adherent)) == [entry]
    assert entry.actor == user and entry.object_repr == adherent.name
    system = audit.record(actor=None, action="test.system", target=adherent)
    assert system.actor is None


@pytest.mark.django_db
def test_health_endpoint(client):
    response = client.get("/sante/web/")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_public_home_presents_the_offer(client):
    page = client.get("/").content.decode()
    for text in ["Qui peut en bénéficier", "Aides", "Prêts", "Vacances", "Loisirs", "Comment adhérer",
                 'lang="fr"', 'href="#contenu"', "<main", "<nav"]:
        assert text in page


@pytest.mark.django_db
def test_unknown_page_is_a_french_404(client):
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


def test_no_asset_comes_from_a_cdn():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for template in root.glob("**/templates/**/*.html"):
        if ".venv" in template.parts:
            continue
        text = template.read_text()
        assert "//cdn" not in text and "googleapis" not in text and 'src="http' not in text, template
