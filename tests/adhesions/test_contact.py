"""The contact page: the delegation of the person logged in and a form that writes to it through the
outbox (once per key, five an hour), every delegation for a visitor, and the messages in the admin
for the staff of their delegation only."""

import datetime
import html
import uuid

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from adhesions.models import ContactMessage
from adhesions.selectors import delegation_of
from adhesions.services.contact import MAX_PER_HOUR
from cnas.models import AuditEntry, OutboxItem
from tests import factories
from tests.conftest import make_tenant
from tests.security.conftest import staff

pytestmark = pytest.mark.django_db
URL = "/contact/"
DESKS = {
    "a": {"address": "12 rue de la République\nCS 30012", "postcode": "69002", "city": "Lyon",
          "phone": "04 72 00 12 34", "email": "delegation-a@cnas.test",
          "opening_hours": "du lundi au jeudi, 9 h - 17 h"},
    "b": {"address": "5 quai de l'Odet", "postcode": "29000", "city": "Quimper",
          "phone": "02 98 00 45 67", "email": "delegation-b@cnas.test", "opening_hours": "le mardi, 14 h - 18 h"},
}


def text(response) -> str:
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


def with_desk(tenant, label):
    """Staff fill in the delegation's desk in the admin (« Accueil des agents »)."""
    region = tenant.employer.region
    for name, value in DESKS[label].items():
        setattr(region, name, value)
    region.save()
    return tenant


@pytest.fixture
def a(db):
    return with_desk(make_tenant("a"), "a")


@pytest.fixture
def b(db):
    return with_desk(make_tenant("b"), "b")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, key=None, **data):
    values = {"subject": "demande", "body": "Bonjour, où en est ma demande ?", "demande_number": "",
              "idempotency_key": key or uuid.uuid4().hex, **data}
    return client.post(URL, values, follow=True)


def sent(response) -> bool:
    return response.redirect_chain == [(URL, 302)] and "Votre message est envoyé à la délégation" in text(response)


def test_the_contact_links_lead_to_the_contact_page(client, a):
    assert reverse("contact") == URL
    home = client.get("/").content.decode()
    assert f'href="{URL}"' in home and 'href="/#contact"' not in home
    assert "Contacter ma délégation" in home


@pytest.mark.parametrize("who", ["agent_user", "correspondent", "cos_admin"])
def test_each_person_sees_his_own_delegation_and_not_another(a, b, who):
    response = client_of(getattr(a, who)).get(URL)
    assert response.status_code == 200
    page = text(response)
    region = a.employer.region
    assert f"<title>Contact — délégation {region.name} — " in page  # the title says where one is
    for shown in ("12 rue de la République", "CS 30012", "69002 LYON", 'href="tel:+33472001234"', "04 72 00 12 34",
                  'href="mailto:delegation-a@cnas.test"', "Du lundi au jeudi, 9 h - 17 h"):
        assert shown in page, shown
    assert "Quimper" not in page and "02 98 00 45 67" not in page and "delegation-b@cnas.test" not in page
    for label in ("Objet", "Numéro de la demande (facultatif)", "Votre message"):
        assert f">{label} :</label>" in page, label
    for choice in ("Une demande de prestation", "Mon adhésion / ma collectivité", "Mon compte", "Autre"):
        assert f">{choice}</option>" in page
    assert 'name="idempotency_key"' in page


def test_the_delegation_is_the_one_of_the_adherent_that_covers_the_agent(a, b):
    assert delegation_of(a.agent_user) == a.employer.region
    assert delegation_of(b.correspondent) == b.employer.region
    assert delegation_of(factories.UserFactory()) is None


def test_the_form_sends_one_e_mail_to_the_delegation_through_the_outbox(a, b, django_capture_on_commit_callbacks):
    client = client_of(a.agent_user)
    key = uuid.uuid4().hex
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, key, subject="adhesion", demande_number="1234",
                        body="Mon employeur a changé de nom.\nQue dois-je faire ?")
        again = post(client, key, subject="adhesion", body="Mon employeur a changé de nom.\nQue dois-je faire ?")
    assert sent(response) and sent(again)
    done = f"Votre message est envoyé à la délégation {a.employer.region.name}. Elle vous répondra à votre adresse " \
           f"{a.agent_user.email}."
    assert done in text(response) and done in text(again)

    message = ContactMessage.objects.get()  # one message for one key
    assert (message.sender, message.region, message.subject, message.demande_number, message.sent_to) == (
        a.agent_user, a.employer.region, "adhesion", "1234", "delegation-a@cnas.test")
    assert OutboxItem.objects.filter(task="cnas.tasks.send_email").count() == 1
    assert AuditEntry.objects.for_object(message).get().action == "contact.send"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["delegation-a@cnas.test"] and email.reply_to == [a.agent_user.email]
    assert "Mon adhésion / ma collectivité" in email.subject and "AGENTA" in email.subject.upper()
    assert "Mon employeur a changé de nom.\nQue dois-je faire ?" in email.body
    assert "agent de Commune a" in email.body and "Demande n° 1234" in email.body
    assert f"/admin/adhesions/contactmessage/{message.pk}/change/" in email.body


@pytest.mark.parametrize(("data", "error"), [
    ({"body": ""}, "Écrivez votre message."),
    ({"body": "   \n  "}, "Écrivez votre message."),
    ({"body": "x" * (ContactMessage.MAX_BODY + 1)}, "Votre message est trop long : 5000 caractères au plus"),
    ({"subject": "piratage"}, "Choisissez l'objet de votre message dans la liste."),
    ({"subject": ""}, "Choisissez l'objet de votre message."),
    ({"demande_number": "12a"}, "Le numéro de demande ne compte que des chiffres"),
    ({"demande_number": "1" * 13}, "Le numéro de demande compte 12 chiffres au plus."),
])
def test_bad_input_gets_a_french_error_and_sends_nothing(a, data, error, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client_of(a.agent_user), **data)
    assert response.redirect_chain == [] and response.status_code == 200
    page = text(response)
    assert error in page and 'aria-invalid="true"' in page
    assert not ContactMessage.objects.exists() and not OutboxItem.objects.exists() and mail.outbox == []


def test_five_messages_an_hour_at_most(a, django_capture_on_commit_callbacks):
    client = client_of(a.agent_user)
    start = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(MAX_PER_HOUR):
            with time_machine.travel(start + datetime.timedelta(minutes=n), tick=False):
                assert sent(post(client, body=f"Message {n}"))
        with time_machine.travel(start + datetime.timedelta(minutes=59), tick=False):
            refused = post(client, body="Un de trop")
    assert refused.redirect_chain == []
    assert "Vous avez déjà envoyé 5 messages dans l'heure : réessayez plus tard" in text(refused)
    assert ContactMessage.objects.count() == MAX_PER_HOUR and len(mail.outbox) == MAX_PER_HOUR
    # another person is not held back by him; and he may write again once the first is an hour old
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(start + datetime.timedelta(minutes=59), tick=False):
            assert sent(post(client_of(a.correspondent), body="Moi aussi"))
        with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
            assert sent(post(client, body="Une heure après"))
    assert ContactMessage.objects.filter(sender=a.agent_user).count() == MAX_PER_HOUR + 1


def test_a_visitor_sees_every_delegation_and_no_form(client, a, b, django_capture_on_commit_callbacks):
    response = client.get(URL)
    assert response.status_code == 200
    page = text(response)
    assert "<title>Contact — les délégations régionales — " in page
    for label in ("a", "b"):
        desk = DESKS[label]
        for shown in (desk["phone"], desk["city"].upper(), desk["address"].splitlines()[0]):
            assert shown in page, shown
    assert 'href="tel:+33298004567"' in page and "Le mardi, 14 h - 18 h" in page
    assert "<textarea" not in page and 'name="body"' not in page
    assert "delegation-a@cnas.test" not in page  # no address to harvest: he logs in to write
    assert f'href="{reverse("account_login")}?next={URL}">connectez-vous</a>' in page
    with django_capture_on_commit_callbacks(execute=True):
        refused = post(client)
    assert "Connectez-vous pour écrire à votre délégation." in text(refused)
    assert not ContactMessage.objects.exists() and mail.outbox == []


def test_someone_of_no_delegation_is_shown_them_all_and_how_to_find_his(b):
    page = text(client_of(factories.UserFactory()).get(URL))
    assert "Votre compte n'est rattaché à aucune délégation" in page and reverse("attach") in page
    assert "29000 QUIMPER" in page and "<textarea" not in page


def test_the_page_fits_a_phone_and_its_fields_are_labelled(a):
    page = client_of(a.agent_user).get(URL).content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    for field in ("id_subject", "id_demande_number", "id_body"):
        assert f'for="{field}"' in page and f'id="{field}"' in page


def test_messages_are_read_in_the_admin_by_the_staff_of_their_delegation_only(a, b,
                                                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client_of(a.agent_user), body="Message pour la délégation A")
    message = ContactMessage.objects.get()
    change = reverse("admin:adhesions_contactmessage_change", args=[message.pk])
    changelist = reverse("admin:adhesions_contactmessage_changelist")

    mine = client_of(staff("instr-a@cnas.test", "Instructeur", region=a.employer.region))
    page = text(mine.get(change))
    assert "Message pour la délégation A" in page and 'name="_save"' not in page  # read-only
    assert str(message.pk) in text(mine.get(changelist))
    assert mine.post(change, {"body": "changé"}).status_code == 403
    assert mine.get(reverse("admin:adhesions_contactmessage_add")).status_code == 403

    other = client_of(staff("instr-b@cnas.test", "Instructeur", region=b.employer.region))
    assert other.get(change).status_code == 404
    assert "Message pour la délégation A" not in text(other.get(changelist))
    nobody = client_of(staff("sans-region@cnas.test", "Instructeur"))
    assert nobody.get(change).status_code == 404
    national = client_of(staff("superviseur@cnas.test", "Superviseur", national=True))
    assert national.get(change).status_code == 200
    message.refresh_from_db()
    assert message.body == "Message pour la délégation A"
