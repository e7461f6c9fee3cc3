"""Redis really unreachable (the port refuses, or accepts and never answers) while users act: every
committed action answers its normal page, its work waits in the outbox, and goes out, once, when
Redis is back (a real worker on the real broker)."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cnas import outbox
from cnas.models import OutboxItem
from cnas.pdf import blank_pdf
from cos import services as cos_services
from prestations.models import Demande
from tests import world
from tests.adhesions.test_roster_import import csv_file
from tests.prestations.conftest import prestation
from tests.prestations.test_demandes import IBAN, page_text, staff_client
from tests.workers import wait

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
TODAY = datetime.date.today()


@pytest.fixture
def scene(tenant_a):
    """An agent with a new-born child and a place on a waiting list behind another member."""
    aid = prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12, child_max_age=17,
                     documents=["Acte de naissance"])
    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=TODAY - datetime.timedelta(days=20))
    world.serve(tenant_a.cos, tenant_a.employer)
    member = cos_services.add_member(actor=None, cos=tenant_a.cos, agent=tenant_a.agent,
                                     joined_on=datetime.date(2020, 1, 1))
    other = world.hire(tenant_a.employer, datetime.date(2019, 1, 1), email="suivant@exemple.test").agent
    other_member = cos_services.add_member(actor=None, cos=tenant_a.cos, agent=other,
                                           joined_on=datetime.date(2020, 1, 1))
    action = cos_services.create_action(
        actor=None, cos=tenant_a.cos, title="Arbre de Noël", starts_at=timezone.now() + datetime.timedelta(days=20),
        place="Salle des fêtes", capacity=1, price_adult=0, price_child=0,
        registration_deadline=TODAY + datetime.timedelta(days=10), is_published=True)
    mine = cos_services.register(actor=None, action=action, member=member, family_member_ids=[])
    waiting = cos_services.register(actor=None, action=action, member=other_member, family_member_ids=[])
    assert (mine.status, waiting.status) == ("confirmed", "waiting")
    return aid, baby, mine, waiting


def test_every_action_succeeds_while_redis_is_down_and_its_work_goes_out_when_it_is_back(
        request, tenant_a, scene, redis_down):
    aid, baby, mine, waiting = scene
    agent = Client()
    agent.force_login(tenant_a.agent_user)
    response = agent.post(reverse("espace:bank"), {"iban": IBAN, "bic": ""})
    assert response.status_code in (200, 302)

    # The agent sends a request: draft, document, sent.
    response = agent.post(reverse("espace:prestation", args=[aid.code]), {"child": baby.pk})
    assert response.status_code == 302, page_text(response)[:2000]
    demande = Demande.objects.get(agent=tenant_a.agent)
    response = agent.post(reverse("espace:demande_document", args=[demande.pk]), {
        "kind": aid.required_documents.get().pk, "file": SimpleUploadedFile("acte.pdf", blank_pdf())}, follow=True)
    assert response.status_code == 200
    response = agent.post(reverse("espace:demande_submit", args=[demande.pk]), follow=True)
    assert response.status_code == 200 and "déposée" in page_text(response)

    # An instructor accepts it.
    staff = staff_client()
    response = staff.post(reverse("admin:prestations_demande_instruct", args=[demande.pk]),
                          {"action": "accept", "amount": "", "reason": ""}, follow=True)
    assert response.status_code == 200
    demande.refresh_from_db()
    assert demande.status == "accepted" and not demande.decision_pdf

    # The agent gives up his place: the next on the list is promoted (her e-mail waits).
    response = agent.post(reverse("espace:action_cancel", args=[mine.pk]), follow=True)
    assert response.status_code == 200 and "Inscription annulée" in page_text(response)
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"

    # The correspondent uploads a roster and follows its (unknown) progress.
    correspondent = Client()
    correspondent.force_login(tenant_a.correspondent)
    response = correspondent.post(reverse("collectivite:imports", args=[tenant_a.employer.pk]), {
        "file": csv_file("N1;Durand;Émilie;03/02/1990;emilie@exemple.test;01/03/2020;actif;")})
    assert response.status_code == 302
    record = tenant_a.employer.roster_imports.get()
    assert correspondent.get(response.url).status_code == 200
    status = correspondent.get(reverse("collectivite:import_status", args=[tenant_a.employer.pk, record.pk]))
    assert status.status_code == 200 and status.json()["status"] == "pending"

    # A wrong password is answered as usual (its rate limit lives in the cache).
    response = Client().post(reverse("account_login"), {"login": tenant_a.agent_user.email, "password": "faux"})
    assert response.status_code == 200 and "mot de passe" in page_text(response).lower()

    waiting_items = OutboxItem.objects.filter(completed_at__isnull=True)
    tasks = sorted(waiting_items.values_list("task", flat=True))
    assert tasks == sorted(["cnas.tasks.send_email"] * 3  # sent, accepted, promoted
                           + ["prestations.tasks.render_decision", "adhesions.tasks.check_roster_import"])
    assert not waiting_items.filter(published_at__isnull=False).exists()
    assert "publication" in waiting_items.order_by("id").first().last_error  # the others: not even tried
    assert mail.outbox == []

    # Redis is back: beat's next relay hands everything to a real worker, which does it once.
    redis_down()
    request.getfixturevalue("real_worker")
    assert outbox.relay() == 5
    wait(lambda: not OutboxItem.objects.filter(completed_at__isnull=True).exists(), 60, "the outbox to empty")
    assert set(OutboxItem.objects.values_list("attempts", flat=True)) == {1}
    demande.refresh_from_db()
    record.refresh_from_db()
    assert demande.decision_pdf and record.status == "ready"
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([tenant_a.agent_user.email] * 2 + ["suivant@exemple.test"])
    assert outbox.relay() == 0  # nothing left, nothing sent twice
