"""Every e-mail the portal sends, rendered through the service or task that sends it, links to the
portal's address (SITE_URL), never the request's host: each link starts with SITE_URL, its path is one
of the portal's, and the person it is written to reaches it (200 or a redirect, never a 404).

EMAILS is the explicit list: a new e-mail template under */templates/*/email/, or a new place in the
code that sends an e-mail, fails the guards below until it is listed here and tested."""

import datetime
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone

from accounts.demo import current_totp_code
from adhesions import services as adhesion_services
from adhesions.models import ContributionCall
from cos import services as cos_services
from prestations import services as prestation_services
from prestations.models import PaymentBatch
from tests import factories, world
from tests.factories import PASSWORD
from tests.prestations.conftest import TODAY, granted, prestation, submitted
from tests.security.conftest import staff

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
SITE = "http://portail.example.test:8123"
D = datetime.date


def allauth(prefix: str) -> set[str]:
    return {f"{prefix}_subject.txt", f"{prefix}_message.txt"}


def own(prefix: str) -> set[str]:
    return {f"{prefix}_subject.txt", f"{prefix}_body.txt"}


# Every e-mail the portal sends -> the templates it is written with (none: its text is in the code).
EMAILS = {
    # allauth, through accounts.adapter.AccountAdapter
    "signup confirmation": allauth("account/email/email_confirmation_signup"),
    "confirmation of an added address": allauth("account/email/email_confirmation"),
    "sign-up with a known address": allauth("account/email/account_already_exists"),
    "password reset": allauth("account/email/password_reset_key"),
    "password reset of an unknown address": allauth("account/email/unknown_account"),
    # allauth's notifications: sent only if ACCOUNT_EMAIL_NOTIFICATIONS is turned on (off today)
    "notification: password changed": allauth("account/email/password_changed"),
    "notification: password reset": allauth("account/email/password_reset"),
    "notification: TOTP activated": allauth("mfa/email/totp_activated"),
    "notification: TOTP deactivated": allauth("mfa/email/totp_deactivated"),
    "notification: recovery codes generated": allauth("mfa/email/recovery_codes_generated"),
    # the portal's own
    "invitation of an agent": own("adhesions/email/invitation"),
    "invitation of a correspondent": own("adhesions/email/invitation"),
    "contribution reminders": own("adhesions/email/reminder"),
    "payroll reminder before the campaign": set(),
    "contact message to the delegation": own("adhesions/email/contact"),
    "COS waiting list: seat offered": own("cos/email/promoted"),
    "request status": own("prestations/email/status"),
    "instruction digest": own("prestations/email/digest"),
    "opinion asked of a colleague": set(),
}
# The places in the code that send an e-mail (file -> how many), found by the guard below.
SENDERS = {
    "accounts/adapter.py": 1,  # allauth's e-mails, all of them
    "adhesions/services/contact.py": 1,
    "adhesions/services/contributions.py": 1,  # payroll reminder
    "adhesions/services/invitations.py": 1,
    "adhesions/services/payments.py": 1,  # contribution reminders
    "cnas/tasks.py": 1,  # send_email itself
    "cos/services.py": 1,  # seat offered
    "prestations/services.py": 2,  # request status, opinion asked
    "prestations/tasks.py": 1,  # instruction digest
}
SENDING = re.compile(r"""["']cnas\.tasks\.send_email["']|(?<!def )\bsend_mail\(|\bsend_mass_mail\(|\bmail_admins\("""
                     r"""|\bmail_managers\(|\bEmailMessage\(|\bEmailMultiAlternatives\(|\.send_email\.""")
URL = re.compile(r"""https?://[^\s<>"'«»]+""")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE
    return SITE


# --- The guards -------------------------------------------------------------------------------------

def test_every_e_mail_template_is_covered_here():
    found = {str(path.relative_to(path.parents[2])) for path in ROOT.glob("*/templates/*/email/*")}
    found |= {str(path.relative_to(ROOT / "templates")) for path in ROOT.glob("templates/*/email/*")}
    covered = set().union(*EMAILS.values())
    assert found - covered == set(), "e-mail templates not tested by this module: list them in EMAILS"
    own_templates = {name for name in covered if not name.startswith(("account/", "mfa/"))}
    assert own_templates - found == set(), "EMAILS lists templates that are gone"


def test_every_place_that_sends_an_e_mail_is_covered_here():
    found = Counter()
    apps = [path for path in ROOT.iterdir() if (path / "apps.py").exists() or (path / "settings.py").exists()]
    assert {path.name for path in apps} >= {"cnas", "accounts", "adhesions", "cos", "prestations"}
    for path in (file for app in apps for file in app.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if "migrations" in relative.parts:
            continue
        count = len(SENDING.findall(path.read_text()))
        if count:
            found[str(relative)] = count
    assert dict(found) == SENDERS, "a new way of sending an e-mail: test its links here, then list it in SENDERS"


# --- The checks on one e-mail -----------------------------------------------------------------------

def bodies(message) -> list[str]:
    return [message.body, *(content for content, mimetype in getattr(message, "alternatives", [])
                            if mimetype == "text/html")]


def links(message) -> list[str]:
    """Every URL of the text and HTML bodies, each starting with SITE_URL and resolving to a view."""
    found = []
    for body in bodies(message):
        assert "testserver" not in body, body  # the test client's host: a link built from the request
        for url in URL.findall(body):
            url = url.rstrip(".,;:!?)")
            assert url.startswith(SITE + "/"), f"{url} does not start with {SITE}"
            resolve(urlsplit(url).path)  # a path of the portal (Resolver404 otherwise)
            found.append(url)
    return found


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def reaches(client: Client, url: str, ok=(200, 302)) -> None:
    response = client.get(path_of(url))
    assert response.status_code in ok, f"{url}: {response.status_code}"


def client_of(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def last_to(address: str):
    messages = [m for m in mail.outbox if address in m.to]
    assert messages, f"no e-mail to {address}"
    return messages[-1]


def test_links_are_checked_against_the_portal_address():
    bad = mail.EmailMessage("x", "Voir http://testserver/espace/", to=["a@exemple.test"])
    with pytest.raises(AssertionError):
        links(bad)
    elsewhere = mail.EmailMessage("x", "Voir http://ailleurs.example.test/espace/", to=["a@exemple.test"])
    with pytest.raises(AssertionError):
        links(elsewhere)


# --- allauth -----------------------------------------------------------------------------------------

def test_signup_confirmation(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {"email": "nouveau@exemple.test", "password1": PASSWORD,
                                                "password2": PASSWORD})
    message = last_to("nouveau@exemple.test")
    [url] = links(message)
    assert resolve(urlsplit(url).path).url_name == "account_confirm_email"
    assert "portail.example.test:8123" in message.body  # the site allauth's templates name
    reaches(Client(), url, ok=(200,))


def test_confirmation_of_an_added_address(tenant_a, django_capture_on_commit_callbacks):
    client = client_of(tenant_a.agent_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_email"), {"action_add": "", "email": "autre-adresse@exemple.test"})
    [url] = links(last_to("autre-adresse@exemple.test"))
    reaches(client, url, ok=(200,))


def test_sign_up_with_a_known_address(client, django_capture_on_commit_callbacks):
    factories.UserFactory(email="deja@exemple.test")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_signup"), {"email": "deja@exemple.test", "password1": PASSWORD,
                                                "password2": PASSWORD})
    urls = links(last_to("deja@exemple.test"))
    assert [resolve(urlsplit(url).path).url_name for url in urls] == ["account_reset_password"]
    reaches(Client(), urls[0], ok=(200,))


def test_password_reset_and_its_notification(client, settings, django_capture_on_commit_callbacks):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    factories.UserFactory(email="oubli@exemple.test")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "oubli@exemple.test"})
    [url] = links(last_to("oubli@exemple.test"))
    response = client.get(path_of(url))  # the key goes to the session, then the form
    assert response.status_code == 302
    new = "Encore-un-mot-de-passe-2027"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(response.url, {"password1": new, "password2": new}).status_code == 302
    notification = last_to("oubli@exemple.test")
    assert notification.subject != mail.outbox[0].subject
    assert links(notification) == [] and "portail.example.test:8123" in notification.body


def test_password_reset_of_an_unknown_address(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "inconnu@exemple.test"})
    [url] = links(last_to("inconnu@exemple.test"))
    assert resolve(urlsplit(url).path).url_name == "account_signup"
    reaches(Client(), url, ok=(200,))


def test_notifications_of_password_change_and_second_factor(client, settings, django_capture_on_commit_callbacks):
    """allauth's notifications (off today: ACCOUNT_EMAIL_NOTIFICATIONS) hold no link, and name the
    portal's address, not the request's host."""
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    user = factories.UserFactory(email="prudent@exemple.test")
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    new = "Mot-de-passe-change-2027"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_change_password"), {"oldpassword": PASSWORD, "password1": new,
                                                         "password2": new})
        page = client.get(reverse("mfa_activate_totp"), follow=True)
        if page.redirect_chain and "reauthenticate" in page.redirect_chain[-1][0]:
            client.post(page.redirect_chain[-1][0], {"password": new})
            page = client.get(reverse("mfa_activate_totp"))
        secret = page.context["form"].secret
        assert client.post(reverse("mfa_activate_totp"), {"code": current_totp_code(secret)}).status_code == 302
        client.post(reverse("mfa_generate_recovery_codes"))
        client.post(reverse("mfa_deactivate_totp"))
    received = [m for m in mail.outbox if m.to == [user.email]]
    assert len(received) >= 4, [m.subject for m in received]  # changed, activated, codes, deactivated
    for message in received:
        assert links(message) == [] and "portail.example.test:8123" in message.body


# --- adhesions -----------------------------------------------------------------------------------------

def test_invitation_of_an_agent(tenant_a, django_capture_on_commit_callbacks):
    agent = world.hire(tenant_a.employer, D(2019, 1, 1), email="invite@exemple.test").agent
    with django_capture_on_commit_callbacks(execute=True):
        adhesion_services.invite_agent(actor=tenant_a.correspondent, adherent=tenant_a.employer, agent=agent)
    [url] = links(last_to("invite@exemple.test"))
    reaches(Client(), url, ok=(200,))


def test_invitation_of_a_correspondent(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        adhesion_services.invite_correspondent(actor=tenant_a.correspondent, adherent=tenant_a.employer,
                                               email="collegue@exemple.test")
    [url] = links(last_to("collegue@exemple.test"))
    reaches(Client(), url, ok=(200,))


def test_payroll_reminder_before_the_campaign(tenant_a, django_capture_on_commit_callbacks):
    scale = world.scale(TODAY.year)
    with django_capture_on_commit_callbacks(execute=True):
        assert adhesion_services.remind_missing_payroll(actor=None, scale=scale) >= 1
    [url] = links(last_to(tenant_a.correspondent.email))
    assert path_of(url) == reverse("collectivite:payroll", args=[tenant_a.employer.pk])
    reaches(client_of(tenant_a.correspondent), url, ok=(200,))


def test_contribution_reminders(tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        adhesion_services.run_campaign_now(actor=None, scale=world.scale(2027, employer_mode="per_agent",
                                                                          flat_per_agent=Decimal("1000"),
                                                                          cos_per_agent=0),
                                           issued_on=D(2027, 1, 15))
    call = ContributionCall.objects.get(year=2027, adherent=tenant_a.employer)
    for level, days in adhesion_services.REMINDER_LEVELS:
        with django_capture_on_commit_callbacks(execute=True):
            assert adhesion_services.send_reminders(today=call.due_date + datetime.timedelta(days=days)) >= 1
        message = last_to(tenant_a.correspondent.email)
        assert ("Seconde relance" if level == 2 else "Relance") in message.subject
        [url] = links(message)
        assert path_of(url) == reverse("collectivite:contributions", args=[tenant_a.employer.pk])
        reaches(client_of(tenant_a.correspondent), url, ok=(200,))


def test_contact_message_to_the_delegation(tenant_a, birth_aid, django_capture_on_commit_callbacks):
    region = tenant_a.employer.region
    region.email = "delegation@cnas.test"
    region.save()
    demande = submitted(tenant_a.agent, birth_aid, child=baby(tenant_a))
    with django_capture_on_commit_callbacks(execute=True):
        adhesion_services.send_contact_message(user=tenant_a.agent_user, subject="demande", body="Où en est-elle ?",
                                               demande_number=str(demande.pk))
    message = last_to("delegation@cnas.test")
    urls = links(message)
    assert {resolve(urlsplit(url).path).url_name for url in urls} == {"adhesions_contactmessage_change",
                                                                       "prestations_demande_change"}
    instructor = staff("instr@cnas.test", "Instructeur", region=region)
    for url in urls:
        reaches(client_of(instructor), url, ok=(200,))


# --- COS ---------------------------------------------------------------------------------------------------

def test_cos_waiting_list_seat_offered(tenant_a, django_capture_on_commit_callbacks):
    world.serve(tenant_a.cos, tenant_a.employer)
    action = cos_services.create_action(
        actor=None, cos=tenant_a.cos, title="Arbre de Noël", starts_at=timezone.now() + datetime.timedelta(days=20),
        place="Salle des fêtes", capacity=1, price_adult=Decimal("5"), price_child=Decimal("0"),
        registration_deadline=TODAY + datetime.timedelta(days=10), is_published=True)
    first = cos_services.register(actor=None, action=action, member=world.join_cos(
        tenant_a.cos, world.hire(tenant_a.employer, D(2018, 1, 1)).agent, D(2021, 1, 1)), family_member_ids=[])
    waiting = world.join_cos(tenant_a.cos, tenant_a.agent, D(2021, 1, 1))
    assert cos_services.register(actor=None, action=action, member=waiting, family_member_ids=[]).status == "waiting"
    with django_capture_on_commit_callbacks(execute=True):
        cos_services.cancel_registration(actor=None, registration=first)
    urls = links(last_to(tenant_a.agent_user.email))
    assert {resolve(urlsplit(url).path).url_name for url in urls} == {"actions", "action_release"}
    for url in urls:
        name = resolve(urlsplit(url).path).url_name
        reaches(Client() if name == "action_release" else client_of(tenant_a.agent_user), url, ok=(200,))


# --- prestations --------------------------------------------------------------------------------------

@pytest.fixture
def birth_aid(db):
    return prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12,
                      child_max_age=17, documents=["Acte de naissance"])


def baby(tenant, name="Léa", days=20):
    return world.child(tenant.agent, first_name=name, birth_date=TODAY - datetime.timedelta(days=days))


def status_link(tenant) -> str:
    [url] = links(last_to(tenant.agent_user.email))
    return url


def test_request_status_at_each_step(tenant_a, birth_aid, django_capture_on_commit_callbacks):
    agent = client_of(tenant_a.agent_user)
    seen = []
    with django_capture_on_commit_callbacks(execute=True):
        asked = submitted(tenant_a.agent, birth_aid, child=baby(tenant_a, "Léo", 9))
    seen.append(last_to(tenant_a.agent_user.email).subject)
    with django_capture_on_commit_callbacks(execute=True):
        prestation_services.ask_documents(actor=None, demande=asked, message="L'acte est illisible.")
    seen.append(last_to(tenant_a.agent_user.email).subject)
    url = status_link(tenant_a)
    assert path_of(url) == reverse("espace:demande", args=[asked.pk])
    reaches(agent, url, ok=(200,))

    with django_capture_on_commit_callbacks(execute=True):
        refused = submitted(tenant_a.agent, birth_aid, child=baby(tenant_a, "Lou", 8))
        prestation_services.refuse(actor=None, demande=refused, reason="Hors délai")
    seen.append(last_to(tenant_a.agent_user.email).subject)
    reaches(agent, status_link(tenant_a), ok=(200,))

    with django_capture_on_commit_callbacks(execute=True):
        accepted = granted(tenant_a.agent, birth_aid, child=baby(tenant_a, "Lia", 7))
    seen.append(last_to(tenant_a.agent_user.email).subject)
    reaches(agent, status_link(tenant_a), ok=(200,))
    with django_capture_on_commit_callbacks(execute=True):
        batch = prestation_services.prepare_batch(actor=None, region_id=tenant_a.employer.region_id)
        prestation_services.confirm_batch_sent(actor=None, batch=PaymentBatch.objects.get(pk=batch.pk))
    seen.append(last_to(tenant_a.agent_user.email).subject)
    url = status_link(tenant_a)
    assert path_of(url) == reverse("espace:demande", args=[accepted.pk])
    reaches(agent, url, ok=(200,))
    assert len(set(seen)) == 5, seen  # déposée, pièces demandées, refusée, acceptée, payée
    for message in mail.outbox:
        links(message)


def test_opinion_asked_of_a_colleague(tenant_a, birth_aid, django_capture_on_commit_callbacks):
    region = tenant_a.employer.region
    instructor = staff("instr@cnas.test", "Instructeur", region=region)
    social = staff("social@cnas.test", "Travailleur social", region=region)
    demande = submitted(tenant_a.agent, birth_aid, child=baby(tenant_a))
    with django_capture_on_commit_callbacks(execute=True):
        prestation_services.ask_opinion(actor=instructor, demande=demande, addressee=social, question="Votre avis ?")
    [url] = links(last_to(social.email))
    assert path_of(url) == reverse("admin:prestations_demande_change", args=[demande.pk])
    reaches(client_of(social), url, ok=(200,))


def test_instruction_digest(tenant_a, django_capture_on_commit_callbacks):
    from prestations.tasks import send_instruction_digest

    relief = prestation(code="secours", name="Secours", amount_rule="share", fixed_amount=None,
                        share_percent=Decimal("50"), share_ceiling=Decimal("1500.00"), once_per_event=False)
    old = timezone.now() - datetime.timedelta(days=relief.instruction_limit_days + 2)
    demande = submitted(tenant_a.agent, relief, expense=Decimal("100"), at=old)
    instructor = staff("instr@cnas.test", "Instructeur", region=tenant_a.employer.region)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_instruction_digest() >= 1
    [url] = links(last_to(instructor.email))
    assert path_of(url) == reverse("admin:prestations_demande_change", args=[demande.pk])
    reaches(client_of(instructor), url, ok=(200,))


def test_an_address_with_a_trailing_slash_makes_the_same_links(settings, tenant_a, django_capture_on_commit_callbacks):
    from cnas.links import absolute_reverse, absolute_url

    settings.SITE_URL = SITE + "/"
    assert absolute_url("/espace/") == f"{SITE}/espace/"
    assert absolute_reverse("espace:demande", 12) == f"{SITE}/espace/demandes/12/"
    assert absolute_url("http://testserver/accounts/signup/?next=/espace/") == f"{SITE}/accounts/signup/?next=/espace/"
    with pytest.raises(ValueError):
        absolute_url("espace/")
