"""Every submission counts once: the same page posted twice (a double click, a page sent again,
two at the very same moment) makes one thing, and requests for a once-per-event benefit sent at
the same moment from two pages leave exactly one open request."""

import datetime
import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import FamilyMember
from adhesions.models import PayrollDeclaration, RosterImport
from cos import services as cos_services
from cos.models import CosMember, Registration
from prestations.models import Demande
from tests import world
from tests.adhesions.test_roster_import import csv_file
from tests.prestations.conftest import IBAN, prestation
from tests.prestations.test_demandes import page_text
from tests.workers import at_the_same_moment

TODAY = datetime.date.today()
KEY = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')


def key_of(page) -> str:
    """The key drawn in the page's form, as the browser would send it back."""
    keys = KEY.findall(page.content.decode())
    assert keys, "the form carries no idempotency key"
    return keys[0]


@dataclass
class Form:
    persona: str
    url: str  # where the form posts
    data: dict
    made: object  # a callable: the queryset of what the form creates
    page: str = ""  # the page that draws the form, when it is not ``url``

    def key(self, client) -> str:
        return key_of(client.get(self.page or self.url))


def birth_aid():
    return prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12, child_max_age=17)


def christmas(cos):
    return cos_services.create_action(
        actor=None, cos=cos, title="Arbre de Noël", starts_at=timezone.now() + datetime.timedelta(days=20),
        place="Salle des fêtes", capacity=10, price_adult=0, price_child=0,
        registration_deadline=TODAY + datetime.timedelta(days=10), is_published=True)


def forms(tenant) -> dict[str, Form]:
    """(persona, page URL, what it posts, what it creates), built through the services."""
    world.serve(tenant.cos, tenant.employer)
    member = cos_services.add_member(actor=None, cos=tenant.cos, agent=tenant.agent,
                                     joined_on=datetime.date(2020, 1, 1))
    newcomer = world.hire(tenant.employer, datetime.date(2019, 1, 1), first_name="Nina")
    baby = world.child(tenant.agent, first_name="Léa", birth_date=TODAY - datetime.timedelta(days=20))
    aid = birth_aid()
    action = christmas(tenant.cos)
    employer, cos = tenant.employer.pk, tenant.cos.pk
    return {name: Form(*spec) for name, spec in {
        "household member": ("agent", reverse("espace:household:add"), {
            "relation": "child", "first_name": "Zoé", "last_name": "Nom", "birth_date": "2021-09-04",
            "is_dependent": "on"}, lambda: FamilyMember.objects.filter(first_name="Zoé")),
        "request draft": ("agent", reverse("espace:prestation", args=[aid.code]), {"child": baby.pk},
                          lambda: Demande.objects.filter(prestation=aid)),
        "registration": ("agent", reverse("espace:action_register", args=[action.pk]), {"me": "on"},
                         lambda: Registration.objects.filter(member=member), reverse("espace:actions")),
        "payroll declaration": ("correspondent", reverse("collectivite:payroll", args=[employer]), {
            "year": TODAY.year - 1, "gross_payroll": "1 234 567,89", "working_headcount": "42",
            "retired_headcount": "7"}, lambda: PayrollDeclaration.objects.filter(adherent_id=employer)),
        "roster import": ("correspondent", reverse("collectivite:imports", args=[employer]), {
            "file": lambda: csv_file("N1;Durand;Émilie;03/02/1990;;01/03/2020;actif;")},
            lambda: RosterImport.objects.filter(adherent_id=employer)),
        "COS member": ("cos_admin", reverse("cos:members", args=[cos]), {
            "employer": employer, "employee_number": newcomer.employee_number, "birth_date": "1985-06-15",
            "joined_on": TODAY.isoformat()}, lambda: CosMember.objects.filter(cos_id=cos, agent=newcomer.agent)),
    }.items()}


def login(tenant, persona: str) -> Client:
    if persona == "agent":
        world_agent = tenant.agent
        world_agent.iban = IBAN
        world_agent.save(update_fields=["iban"])
    client = Client()
    client.force_login({"agent": tenant.agent_user, "correspondent": tenant.correspondent,
                        "cos_admin": tenant.cos_admin}[persona])
    return client


def payload(data: dict, key: str) -> dict:
    return {**{name: value() if callable(value) else value for name, value in data.items()}, "idempotency_key": key}


FORMS = ["household member", "request draft", "registration", "payroll declaration", "roster import", "COS member"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", FORMS)
def test_the_same_page_posted_twice_makes_one_thing(tenant_a, name):
    form = forms(tenant_a)[name]
    client = login(tenant_a, form.persona)
    key = form.key(client)
    first = client.post(form.url, payload(form.data, key))
    assert first.status_code == 302, page_text(first)[:3000]
    again = client.post(form.url, payload(form.data, key))  # the double click
    assert again.status_code == 302 and again.url == first.url  # to what the first made
    assert form.made().count() == 1
    fresh = client.post(form.url, payload(form.data, form.key(client)))  # the page shown anew: a new key
    assert fresh.status_code in (200, 302)


@pytest.mark.django_db
def test_a_key_is_no_passe_partout(tenant_a, tenant_b):
    """A key from another user's page, or from another form, never hands back what it made."""
    form = forms(tenant_a)["household member"]
    client = login(tenant_a, form.persona)
    key = form.key(client)
    assert client.post(form.url, payload(form.data, key)).status_code == 302
    other = login(tenant_b, "agent")
    response = other.post(form.url, payload(form.data, key))
    assert response.status_code == 302
    assert FamilyMember.objects.filter(first_name="Zoé", agent=tenant_b.agent).count() == 1
    assert FamilyMember.objects.filter(first_name="Zoé", agent=tenant_a.agent).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name", ["household member", "request draft", "roster import"])
def test_two_posts_at_the_same_moment_make_one_thing(tenant_a, name):
    form = forms(tenant_a)[name]
    clients = [login(tenant_a, form.persona) for _ in range(2)]  # the same page sent twice at once
    key = form.key(clients[0])
    answers, errors = at_the_same_moment(lambda client: client.post(form.url, payload(form.data, key)), clients)
    assert errors == []
    assert [answer.status_code for answer in answers] == [302, 302]
    assert answers[0].url == answers[1].url
    assert form.made().count() == 1


@pytest.mark.django_db(transaction=True)
def test_requests_for_one_event_sent_at_the_same_moment_leave_one_open_request(tenant_a):
    """Two drafts for the same birth, from two pages (two keys), sent at the same moment: the
    partial unique index lets one through; the other is told so, in French, and stays a draft."""
    aid = birth_aid()
    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=TODAY - datetime.timedelta(days=20))
    clients = [login(tenant_a, "agent") for _ in range(4)]
    url = reverse("espace:prestation", args=[aid.code])
    drafts = []
    for client in clients:
        response = client.post(url, {"child": baby.pk, "idempotency_key": key_of(client.get(url))})
        assert response.status_code == 302
        drafts.append(Demande.objects.latest("id"))
    assert len({d.pk for d in drafts}) == 4
    answers, errors = at_the_same_moment(lambda pair: page_text(pair[0].post(
        reverse("espace:demande_submit", args=[pair[1].pk]), follow=True)), list(zip(clients, drafts, strict=True)))
    assert errors == []
    assert Demande.objects.filter(prestation=aid, status="submitted").count() == 1
    assert Demande.objects.filter(prestation=aid, status="draft").count() == 3
    refused = [text for text in answers if "déjà" in text]
    assert len(refused) == 3, answers
