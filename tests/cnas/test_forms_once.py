"""Every form renders its errors once, through the one form template (settings.FORM_RENDERER,
templates/forms/ and the allauth elements that use the same markup): a bad form posted on real
pages of each persona shows each message exactly once; a field's message is wired to its input
(aria-invalid, aria-describedby naming the error list and the help text), the form's own messages
are in one role="alert" block."""

import datetime
import html
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests import world
from tests.factories import PASSWORD
from tests.prestations.conftest import prestation

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The text of every element that has an id, the form controls, and the role="alert" blocks."""

    def __init__(self, content: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None, bool]] = []  # tag, id, inside an alert
        self.texts: dict[str, str] = {}
        self.controls: list[dict] = []
        self.alerts: list[str] = []
        self.feed(content)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("input", "select", "textarea"):
            self.controls.append({"tag": tag, **attrs})
        if tag in VOID:
            return
        element_id = attrs.get("id")
        if element_id is not None:
            self.texts.setdefault(element_id, "")
        if attrs.get("role") == "alert":
            self.alerts.append("")
        self.stack.append((tag, element_id, attrs.get("role") == "alert"))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        while self.stack:
            open_tag, _, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id, _ in self.stack:
            if element_id is not None:
                self.texts[element_id] += data
        if any(alert for _, _, alert in self.stack):
            self.alerts[-1] += data

    def control(self, name: str) -> dict:
        """The visible control of that name (a page may repeat it in a hidden copy)."""
        found = [c for c in self.controls if c.get("name") == name and c.get("type") != "hidden"]
        assert len(found) == 1, (name, found)
        return found[0]


@dataclass
class Case:
    """A bad form on a real page: who posts it, where, what, and the messages expected, by field
    (None: the form's own message)."""

    id: str
    persona: str
    url: object  # world -> path
    data: object  # world -> dict
    expected: dict
    set_up: object = None  # world -> None
    files: dict = field(default_factory=dict)


@dataclass
class World:
    tenant: object
    extra: dict


def _relief():
    return prestation(code="secours", name="Secours", amount_rule="share", fixed_amount=None,
                      share_percent=50, share_ceiling=1500, yearly_ceiling=1500, once_per_event=False)


def _birth():
    return prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12, child_max_age=17)


def _serve(w):
    world.serve(w.tenant.cos, w.tenant.employer)
    w.extra["member"] = world.join_cos(w.tenant.cos, w.tenant.agent, datetime.date(2020, 1, 1))


CASES = [
    Case("payroll", "correspondent", lambda w: reverse("collectivite:payroll", args=[w.tenant.employer.pk]),
         lambda w: {"year": "1990", "gross_payroll": "douze", "working_headcount": "3", "retired_headcount": ""},
         {"year": "Déclarez une des cinq dernières années (ou l'année en cours).",
          "gross_payroll": "Saisissez un montant en euros, par exemple 1 234,56.",
          "retired_headcount": "Ce champ est obligatoire."}),
    Case("roster-add", "correspondent", lambda w: reverse("collectivite:roster_add", args=[w.tenant.employer.pk]),
         lambda w: {"employee_number": "M1", "last_name": "Durand", "first_name": "", "birth_date": "2001-01-01",
                    "start_date": "1999-01-01", "email": "pas-une-adresse"},
         {"first_name": "Ce champ est obligatoire.", "start_date": "La date d'entrée précède la date de naissance.",
          "email": "Saisissez une adresse de courriel valide."}),
    Case("roster-end", "correspondent",
         lambda w: reverse("collectivite:agent_end", args=[w.tenant.employer.pk, w.tenant.agent.employments.get().pk]),
         lambda w: {"end_date": "31/02/2024", "reason": ""},
         {"end_date": "Saisissez une date valide.", "reason": "Ce champ est obligatoire."}),
    Case("household", "agent", lambda w: reverse("espace:household:add"),
         lambda w: {"relation": "child", "first_name": "", "last_name": "Nom", "birth_date": "2099-01-01"},
         {"first_name": "Ce champ est obligatoire.",
          "birth_date": "La date de naissance ne peut pas être dans le futur."}),
    Case("household-spouse", "agent", lambda w: reverse("espace:household:add"),
         lambda w: {"relation": "spouse", "first_name": "Alex", "last_name": "Nom", "birth_date": "1980-01-01",
                    "adoption_date": "2020-01-01"},
         {"adoption_date": "La date d'arrivée au foyer ne concerne qu'un enfant adopté."}),
    Case("benefit-expense", "agent", lambda w: reverse("espace:prestation", args=["secours"]),
         lambda w: {"expense": "beaucoup"}, {"expense": "Saisissez un montant en euros, par exemple 1 234,56."},
         set_up=lambda w: _relief()),
    Case("benefit-child", "agent", lambda w: reverse("espace:prestation", args=["naissance"]),
         lambda w: {"child": ""}, {"child": "Choisissez l'enfant concerné."}, set_up=lambda w: _birth()),
    Case("cos-member-fields", "cos", lambda w: reverse("cos:members", args=[w.tenant.cos.pk]),
         lambda w: {"employer": "", "employee_number": "X1", "birth_date": "hier", "joined_on": TODAY.isoformat()},
         {"employer": "Ce champ est obligatoire.", "birth_date": "Saisissez une date valide."}, set_up=_serve),
    Case("cos-member-unknown", "cos", lambda w: reverse("cos:members", args=[w.tenant.cos.pk]),
         lambda w: {"employer": w.tenant.employer.pk, "employee_number": "INCONNU", "birth_date": "1980-01-01",
                    "joined_on": TODAY.isoformat()},
         {None: "Aucun agent en poste ne correspond à ce matricule et cette date de naissance chez cet employeur."},
         set_up=_serve),
    Case("cos-fee", "cos", lambda w: reverse("cos:member", args=[w.tenant.cos.pk, w.extra["member"].pk]),
         lambda w: {"form": "fee", "year": "1990", "amount": "-3", "paid_on": TODAY.isoformat(), "means": "cash"},
         {"year": f"Enregistrez la cotisation de {TODAY.year - 1}, {TODAY.year} ou {TODAY.year + 1}.",
          "amount": "Assurez-vous que cette valeur est supérieure ou égale à 0."}, set_up=_serve),
    Case("login-password", "anonymous", lambda w: reverse("account_login"),
         lambda w: {"login": w.tenant.agent_user.email, "password": "pas le bon mot de passe"},
         {None: "L’adresse e-mail ou le mot de passe sont incorrects."}),
    Case("login-email", "anonymous", lambda w: reverse("account_login"),
         lambda w: {"login": "pas-une-adresse", "password": "x"},
         {"login": "Saisissez une adresse de courriel valide."}),
    Case("signup", "anonymous", lambda w: reverse("account_signup"),
         lambda w: {"email": "nouveau@exemple.test", "password1": "Un-mot-de-passe-2024", "password2": "un autre"},
         {"password2": "Vous devez saisir deux fois le même mot de passe."}),
    Case("password-change", "agent", lambda w: reverse("account_change_password"),
         lambda w: {"oldpassword": "faux", "password1": "Un-mot-de-passe-2024", "password2": "Un-mot-de-passe-2024"},
         {"oldpassword": "Merci d'indiquer votre mot de passe actuel."}),
    Case("email-change", "agent", lambda w: reverse("account_email"),  # a field laid out by the allauth page
         lambda w: {"action_add": "", "email": "pas-une-adresse"},
         {"email": "Saisissez une adresse de courriel valide."}),
    Case("mfa-code", "second factor", lambda w: reverse("mfa_authenticate"),
         lambda w: {"code": "000000"}, {"code": "Code incorrect."}),
]


def client_for(persona: str, tenant) -> Client:
    client = Client()
    if persona == "second factor":  # the correspondent's password given, his code asked for
        response = client.post(reverse("account_login"), {"login": tenant.correspondent.email, "password": PASSWORD})
        assert response.url == reverse("mfa_authenticate")
        return client
    user = {"anonymous": None, "agent": tenant.agent_user, "correspondent": tenant.correspondent,
            "cos": tenant.cos_admin}[persona]
    if user is not None:
        client.force_login(user)
    return client


def text_of(content: str) -> str:
    """The page's text as a reader gets it (entities decoded, typographic apostrophes kept)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", content))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_each_error_is_shown_once_and_wired_to_its_input(case, tenant_a, settings):
    settings.ACCOUNT_RATE_LIMITS = False  # the wrong password is not a brute force here
    w = World(tenant_a, {})
    if case.set_up:
        case.set_up(w)
    client = client_for(case.persona, tenant_a)
    response = client.post(case.url(w), case.data(w))
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    content = response.content.decode()
    text = text_of(content)
    page = Page(content)
    for name, message in case.expected.items():
        assert text.count(message) == 1, (name, message, text.count(message))
        if name is None:
            assert sum(message in alert for alert in page.alerts) == 1, page.alerts
            continue
        control = page.control(name)
        assert control.get("aria-invalid") == "true", control
        described = control.get("aria-describedby", "").split()
        assert described, control
        assert all(i in page.texts for i in described), (described, sorted(page.texts))  # no dangling id
        assert any(message in page.texts[i] for i in described), (message, {i: page.texts[i] for i in described})
    assert len(page.alerts) <= 1, page.alerts  # one alert block at most per page of one form


def test_a_field_with_help_text_points_to_both(client, tenant_a):
    """The help text and the error are both named by the input, by ids that exist."""
    client.force_login(tenant_a.correspondent)
    response = client.post(reverse("collectivite:payroll", args=[tenant_a.employer.pk]),
                           {"year": str(TODAY.year - 1), "gross_payroll": "x", "working_headcount": "1",
                            "retired_headcount": "0"})
    page = Page(response.content.decode())
    control = page.control("gross_payroll")
    assert control["aria-describedby"].split() == ["id_gross_payroll_helptext", "id_gross_payroll_error"]
    assert "Total des rémunérations brutes" in page.texts["id_gross_payroll_helptext"]
    assert "Saisissez un montant" in page.texts["id_gross_payroll_error"]
    # an untouched page has no alert, no aria-invalid, and the help text is still named
    page = Page(client.get(reverse("collectivite:payroll", args=[tenant_a.employer.pk])).content.decode())
    assert page.alerts == [] and all("aria-invalid" not in c for c in page.controls)
    assert page.control("gross_payroll")["aria-describedby"] == "id_gross_payroll_helptext"


def test_one_renderer_for_every_form():
    from django.forms.renderers import get_default_renderer

    renderer = get_default_renderer()
    assert settings.FORM_RENDERER == "cnas.renderers.PortalFormRenderer"
    assert renderer.form_template_name == "forms/form.html"
    assert renderer.field_template_name == "forms/field.html"


LAYOUT_BY_HAND = re.compile(r"\.as_(div|p|table|ul)\b|non_field_errors \}\}|\{\{ *[\w.]*\.errors *\}\}|label_tag")


def test_no_template_prints_errors_by_itself():
    """Forms are rendered with {{ form }}, {{ field.as_field_group }} or forms/errors.html, never by
    hand (where errors end up printed twice, or not at all). The admin keeps its own layout."""
    root = Path(settings.BASE_DIR)
    offenders = []
    for app in ("accounts", "adhesions", "cos", "prestations", "cnas", "templates"):
        for template in (root / app).rglob("*.html"):
            relative = template.relative_to(root)
            if "admin" in relative.parts or relative.parts[:2] == ("templates", "forms"):
                continue
            if LAYOUT_BY_HAND.search(template.read_text()):
                offenders.append(str(relative))
    assert offenders == []
