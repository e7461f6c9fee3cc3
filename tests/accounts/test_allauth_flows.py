"""Sign-up with mandatory verification, password reset, change of e-mail, rate limits."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_signup_requires_email_verification(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), {
            "email": "Nouvel.Agent@Exemple.test", "password1": PASSWORD, "password2": PASSWORD,
        })
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    user = User.objects.get(email="nouvel.agent@exemple.test")
    assert not EmailAddress.objects.get(user=user).verified
    # Not logged in until the address is verified.
    assert client.get(reverse("accounts:overview")).status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["nouvel.agent@exemple.test"]
    assert "Confirm" in message.subject or "confirm" in message.subject.lower()

    # Login before verification: sent back to the verification page.
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.url == reverse("account_email_verification_sent")

    confirm_url = link_in(message)
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert client.get(reverse("accounts:overview")).status_code == 200


def test_signup_refuses_weak_password_and_does_not_reveal_known_addresses(
    client, db, django_capture_on_commit_callbacks
):
    factories.UserFactory(email="deja@exemple.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_signup"), {
            "email": "DEJA@exemple.test", "password1": PASSWORD, "password2": PASSWORD,
        })
    # The same answer as for a new address (no enumeration), no second account, and the
    # owner of the address is told by e-mail.
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert User.objects.filter(email__iexact="deja@exemple.test").count() == 1
    assert mail.outbox[-1].to == ["deja@exemple.test"]
    response = client.post(reverse("account_signup"), {
        "email": "autre@exemple.test", "password1": "12345678", "password2": "12345678",
    })
    assert response.status_code == 200
    assert response.context["form"].errors["password1"]
    assert not User.objects.filter(email="autre@exemple.test").exists()


def test_password_reset(client, django_capture_on_commit_callbacks, db):
    user = factories.UserFactory(email="oubli@exemple.test")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": "oubli@exemple.test"})
    assert len(mail.outbox) == 1
    reset_url = link_in(mail.outbox[0])
    response = client.get(reset_url, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else reset_url
    new_password = "Nouveau-mot-de-passe-2027"
    response = client.post(form_url, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_change_of_email_is_verified_before_use(client, django_capture_on_commit_callbacks, tenant_a):
    client.force_login(tenant_a.agent_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_email"), {"action_add": "", "email": "neuve@exemple.test"})
    assert response.status_code == 302
    new = EmailAddress.objects.get(email="neuve@exemple.test")
    assert not new.verified
    assert mail.outbox[-1].to == ["neuve@exemple.test"]
    client.post(link_in(mail.outbox[-1]))
    new.refresh_from_db()
    assert new.verified


def test_login_rate_limit(client, db):
    user = factories.UserFactory(email="cible@exemple.test")
    for _ in range(5):
        response = client.post(reverse("account_login"), {"login": user.email, "password": "faux-mot-de-passe"})
        assert response.status_code == 200
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 200  # blocked even with the right password
    errors = response.context["form"].errors.as_data()["__all__"]
    assert any(error.code == "too_many_login_attempts" for error in errors)


def test_login_page_is_in_french(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert "Mot de passe" in page
    assert 'lang="fr"' in page
    assert "Aller au contenu" in page


def test_email_is_sent_by_the_worker_after_commit(client, db, django_capture_on_commit_callbacks):
    """No e-mail leaves before the commit; the task receives strings, not objects."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(reverse("account_reset_password"), {"email": factories.UserFactory().email})
    assert len(mail.outbox) == 0
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1
