"""Bringing agents in: invitations by e-mail, self-registration, co-correspondents."""

import datetime
import re

import pytest
from django.core import mail, signing
from django.test import override_settings
from django.urls import reverse

from accounts.models import Agent, User
from adhesions import services
from adhesions.models import Employment, Invitation, Manager
from tests import factories, world
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
D = datetime.date


def link_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/invitation/\S+)", message.body).group(1)


@pytest.fixture
def invitable(tenant_a):
    return world.hire(tenant_a.employer, D(2019, 1, 1), email="invite@exemple.test").agent


def test_invite_one_agent_who_creates_his_account(client, tenant_a, invitable, django_capture_on_commit_callbacks):
    line = Employment.objects.get(agent=invitable)
    client.force_login(tenant_a.correspondent)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("collectivite:agent_invite", args=[tenant_a.employer.pk, line.pk]))
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["invite@exemple.test"]
    assert "vous invite à ouvrir votre espace" in mail.outbox[0].subject
    path = link_path(mail.outbox[0])
    client.logout()

    page = client.get(path)
    assert page.status_code == 200 and "invite@exemple.test" in page.content.decode()
    response = client.post(path, {"new_password1": "faible", "new_password2": "faible"})
    assert response.status_code == 200 and not User.objects.filter(email="invite@exemple.test").exists()
    response = client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    user = User.objects.get(email="invite@exemple.test")
    assert user.emailaddress_set.get().verified
    invitable.refresh_from_db()
    assert invitable.user == user
    assert client.get(reverse("espace:home")).status_code == 200
    # the link is used up
    assert client.get(path).status_code == 410


def test_expired_or_forged_link(client, tenant_a, invitable):
    invitation = services.invite_agent(actor=None, adherent=tenant_a.employer, agent=invitable)
    with override_settings(INVITATION_MAX_AGE_DAYS=-1):
        assert client.get(reverse("invitation", args=[services.invitation_token(invitation)])).status_code == 410
    assert client.get(reverse("invitation", args=["faux-jeton"])).status_code == 410
    forged = signing.dumps(invitation.pk, salt="autre-sel")
    assert client.get(reverse("invitation", args=[forged])).status_code == 410


def test_existing_account_logs_in_then_accepts(client, tenant_a, invitable):
    user = factories.UserFactory(email="invite@exemple.test")
    invitation = services.invite_agent(actor=None, adherent=tenant_a.employer, agent=invitable)
    path = reverse("invitation", args=[services.invitation_token(invitation)])
    assert "connectez-vous" in client.get(path).content.decode()
    client.force_login(user)
    assert client.post(path).status_code == 302
    invitable.refresh_from_db()
    assert invitable.user == user


def test_invite_all_sends_once(client, tenant_a, invitable, django_capture_on_commit_callbacks):
    world.hire(tenant_a.employer, D(2019, 1, 1), email="deux@exemple.test")
    world.hire(tenant_a.employer, D(2019, 1, 1))  # no e-mail: not invited
    client.force_login(tenant_a.correspondent)
    url = reverse("collectivite:roster_invite_all", args=[tenant_a.employer.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert sorted(m.to[0] for m in mail.outbox) == ["deux@exemple.test", "invite@exemple.test"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert len(mail.outbox) == 2
    assert "Aucun agent à inviter" in response.content.decode()


def test_sending_twice_sends_nothing_more(tenant_a, invitable):
    invitation = Invitation.objects.create(adherent=tenant_a.employer, kind="agent", agent=invitable,
                                           email=invitable.email)
    assert services.send_invitations(invitation_ids=[invitation.pk]) == 1
    assert services.send_invitations(invitation_ids=[invitation.pk]) == 0
    assert len(mail.outbox) == 1


def test_co_correspondent_invitation(client, tenant_a, django_capture_on_commit_callbacks):
    client.force_login(tenant_a.correspondent)
    url = reverse("collectivite:correspondents", args=[tenant_a.employer.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"email": "collegue@exemple.test"})
    path = link_path(mail.outbox[-1])
    response = client.post(url, {"email": tenant_a.correspondent.email})
    assert "déjà correspondante" in response.content.decode()
    client.logout()
    client.post(path, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    colleague = User.objects.get(email="collegue@exemple.test")
    assert Manager.objects.filter(user=colleague, adherent=tenant_a.employer, role="correspondent").exists()
    # a new correspondent must enrol a second factor before reaching the space
    assert client.get(reverse("collectivite:index")).url == reverse("mfa_activate_totp")


# --- Self-registration ----------------------------------------------------------------------

@pytest.fixture
def newcomer(client, db):
    user = factories.UserFactory(email="nouveau@exemple.test")
    client.force_login(user)
    return user


def attach(client, siret, number, birth):
    return client.post(reverse("attach"), {"siret": siret, "employee_number": number, "birth_date": birth})


def test_self_registration_ties_the_account(client, tenant_a, newcomer):
    agent = world.hire(tenant_a.employer, D(2019, 1, 1), number="S1", birth_date=D(1979, 9, 23)).agent
    response = attach(client, tenant_a.employer.siret, "S1", "1979-09-23")
    assert response.status_code == 302 and response.url == reverse("espace:home")
    agent.refresh_from_db()
    assert agent.user == newcomer


@pytest.mark.parametrize("wrong", ["siret", "number", "birth"])
def test_self_registration_never_says_which_field_was_wrong(client, tenant_a, tenant_b, newcomer, wrong):
    world.hire(tenant_a.employer, D(2019, 1, 1), number="S1", birth_date=D(1979, 9, 23))
    values = {"siret": tenant_a.employer.siret, "number": "S1", "birth": "1979-09-23"}
    values[wrong] = {"siret": tenant_b.employer.siret, "number": "S2", "birth": "1979-09-24"}[wrong]
    response = attach(client, values["siret"], values["number"], values["birth"])
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [str(__import__(
        "adhesions.views.public", fromlist=["ATTACH_FAILED"]).ATTACH_FAILED)]
    assert not response.context["form"].errors.get("siret")
    assert not Agent.objects.filter(user=newcomer).exists()


def test_an_agent_with_an_account_cannot_be_taken(client, tenant_a, newcomer):
    attach(client, tenant_a.employer.siret, Employment.objects.get(agent=tenant_a.agent).employee_number,
           "1985-06-15")
    tenant_a.agent.refresh_from_db()
    assert tenant_a.agent.user == tenant_a.agent_user


def test_self_registration_is_rate_limited(client, tenant_a, newcomer):
    world.hire(tenant_a.employer, D(2019, 1, 1), number="S1", birth_date=D(1979, 9, 23))
    for number in range(5):
        attach(client, tenant_a.employer.siret, f"X{number}", "1979-09-23")
    response = attach(client, tenant_a.employer.siret, "S1", "1979-09-23")  # right, but too late
    assert "Trop de tentatives" in response.content.decode()
    assert not Agent.objects.filter(user=newcomer).exists()
