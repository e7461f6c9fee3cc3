"""Decision letters that hold up: who decided and signs, the request's reference and dates, the amount
and the expected payment date, every reason of a refusal, how to contest with the addresses; the
refusal e-mail carries the reasons; a refusal attestation to download; the wording edited in the admin."""

import datetime
import subprocess

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import services as account_services
from accounts.models import StaffProfile
from prestations.letters import working_days_after
from prestations.models import Demande, LetterWording
from tests import factories, world
from tests.conftest import enroll_totp
from tests.prestations.conftest import submitted

pytestmark = pytest.mark.django_db


def pdf_text(field) -> str:
    with field.open("rb") as handle:
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=handle.read(), capture_output=True,
                              check=True).stdout.decode()
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


@pytest.fixture
def region(tenant_a):
    region = tenant_a.employer.region
    region.address, region.postcode, region.city = "3 place Bellecour\nCS 40001", "69002", "Lyon"
    region.phone, region.email = "04 72 00 00 01", "delegation-a@exemple.test"
    region.save()
    return region


@pytest.fixture
def instructor(region):
    user = enroll_totp(factories.UserFactory(email="k.benali@exemple.test", first_name="Karim", last_name="Benali",
                                             is_staff=True))
    StaffProfile.objects.create(user=user, region=region, job_title="Chargé d'instruction")
    user.groups.add(Group.objects.get(name="Instructeur"))
    return user


@pytest.fixture
def agent_client_factory():
    def logged_in(user):
        client = Client()
        client.force_login(user)
        return client
    return logged_in


def decide(user, demande, data, capture):
    client = Client()
    client.force_login(user)  # now: a staff session is short, and some tests decide at a later date
    with capture(execute=True):
        response = client.post(reverse("admin:prestations_demande_instruct", args=[demande.pk]), data)
    assert response.status_code == 302
    demande.refresh_from_db()
    return demande


def test_working_days_skip_weekends_and_french_public_holidays():
    friday = datetime.date(2026, 12, 18)
    # 21, 22, 23, 24 (25: Noël), 28, 29, 30, 31 (1 January, then the weekend), 4, 5 January
    assert working_days_after(friday, 10) == datetime.date(2027, 1, 5)
    assert working_days_after(datetime.date(2026, 4, 30), 1) == datetime.date(2026, 5, 4)  # 1 May is a Friday


def test_the_acceptance_letter_says_who_decided_the_amount_and_when_it_is_paid(
        tenant_a, region, instructor, birth_aid, django_capture_on_commit_callbacks):
    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=datetime.date(2026, 12, 1))
    demande = submitted(tenant_a.agent, birth_aid, child=baby,
                        at=datetime.datetime(2026, 12, 10, 10, tzinfo=datetime.UTC))
    with time_machine.travel(datetime.datetime(2026, 12, 18, 10, tzinfo=datetime.UTC), tick=False):
        demande = decide(instructor, demande, {"action": "accept", "amount": "", "reason": ""},
                         django_capture_on_commit_callbacks)
    assert demande.status == "accepted" and demande.decision_pdf and not demande.refusal_attestation_pdf
    letter = pdf_text(demande.decision_pdf)
    for mention in (f"Délégation régionale {region.name}", "3 place Bellecour", "69002 LYON", "04 72 00 00 01",
                    f"Demande n° {demande.pk}", "Déposée le 10 décembre 2026", "Décidée le 18 décembre 2026",
                    "Karim Benali", "Chargé d'instruction", "Pour le président et par délégation",
                    "Objet : Décision d'attribution — Aide à la naissance", "Nous vous accordons 230,00 €",
                    "Versement prévu au plus tard le 5 janvier 2027", "se terminant par 0189",
                    "Voies et délais de recours", "Réclamation motivée, dans les deux mois",
                    "Commission nationale des recours", "12 rue de l'Entraide"):
        assert mention in letter, mention
    assert "Versement prévu au plus tard le 5 janvier 2027" in mail.outbox[-1].body


def test_the_refusal_letter_gives_every_reason_in_full_and_how_to_contest(
        tenant_a, region, instructor, birth_aid, agent_client_factory, django_capture_on_commit_callbacks):
    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=datetime.date.today() - datetime.timedelta(days=9))
    demande = submitted(tenant_a.agent, birth_aid, child=baby)
    # the agent corrects his household afterwards: Léa was born two years ago, not nine days ago
    account_services.update_family_member(actor=tenant_a.agent_user, member=baby, relation=baby.relation,
                                          first_name=baby.first_name, last_name=baby.last_name,
                                          birth_date=baby.birth_date.replace(year=baby.birth_date.year - 2),
                                          is_dependent=True)
    reason = "L'acte de naissance montre une naissance il y a deux ans, hors du délai de l'aide."
    demande = decide(instructor, demande, {"action": "refuse", "reason": reason}, django_capture_on_commit_callbacks)
    assert demande.status == "refused" and demande.refusal_grounds, "the rules not met are kept beside the reason"

    letter = pdf_text(demande.decision_pdf)
    assert "Objet : Décision de refus — Aide à la naissance" in letter
    assert "pour les motifs suivants" in letter and " ".join(reason.split()) in letter
    for ground in demande.refusal_grounds:
        assert " ".join(ground.split()) in letter
    for mention in ("Réclamation motivée, dans les deux mois", "3 place Bellecour", "69002 LYON",
                    "delegation-a@exemple.test", "Puis, dans les deux mois de la réponse",
                    "Commission nationale des recours", "Karim Benali", "attestation de refus"):
        assert mention in letter, mention

    body = mail.outbox[-1].body
    assert reason in body and all(ground in body for ground in demande.refusal_grounds)
    assert "réclamation motivée" in body and region.email in body

    attestation = pdf_text(demande.refusal_attestation_pdf)
    assert "Attestation de refus" in attestation and f"demande n° {demande.pk}" in attestation
    assert " ".join(reason.split()) in attestation and "pour servir et valoir ce que de droit" in attestation

    agent = agent_client_factory(tenant_a.agent_user)
    page = agent.get(reverse("espace:demande", args=[demande.pk])).content.decode()
    assert reverse("espace:demande_refusal_attestation", args=[demande.pk]) in page
    response = agent.get(reverse("espace:demande_refusal_attestation", args=[demande.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content if response.streaming else [response.content])[:5] == b"%PDF-"


def test_another_agent_gets_404_on_a_refusal_attestation(tenant_a, tenant_b, region, instructor, birth_aid,
                                                         agent_client_factory, django_capture_on_commit_callbacks):
    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=datetime.date.today() - datetime.timedelta(days=9))
    demande = decide(instructor, submitted(tenant_a.agent, birth_aid, child=baby),
                     {"action": "refuse", "reason": "Naissance déjà aidée."}, django_capture_on_commit_callbacks)
    other = agent_client_factory(tenant_b.agent_user)
    assert other.get(reverse("espace:demande_refusal_attestation", args=[demande.pk])).status_code == 404
    assert other.get(reverse("espace:demande_decision", args=[demande.pk])).status_code == 404


def test_the_wording_edited_in_the_admin_goes_into_the_next_letters(
        tenant_a, region, instructor, birth_aid, django_capture_on_commit_callbacks):
    supervisor = enroll_totp(factories.UserFactory(email="h.garnier@exemple.test", is_staff=True))
    StaffProfile.objects.create(user=supervisor, is_national=True)
    supervisor.groups.add(Group.objects.get(name="Superviseur"))
    staff = Client()
    staff.force_login(supervisor)
    wording = LetterWording.for_kind(LetterWording.Kind.REFUSAL)
    wording.save()
    url = reverse("admin:prestations_letterwording_change", args=[wording.pk])
    assert staff.get(url).status_code == 200
    response = staff.post(url, {
        "opening": "Votre dossier a été étudié par la délégation.", "closing": "",
        "signature_formula": "Pour la présidente, par délégation,",
        "contest": "Vous disposez de deux mois pour une réclamation motivée à la délégation.",
        "commission_name": "Commission des recours amiables", "commission_address": "BP 42\n75015 PARIS"})
    assert response.status_code == 302, response.content.decode()[:3000]
    # an instructor reads the wording but does not change it
    reader = Client()
    reader.force_login(instructor)
    assert reader.get(url).status_code == 200 and reader.post(url, {"opening": "x"}).status_code == 403

    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=datetime.date.today() - datetime.timedelta(days=9))
    demande = decide(instructor, submitted(tenant_a.agent, birth_aid, child=baby),
                     {"action": "refuse", "reason": "Naissance déjà aidée."}, django_capture_on_commit_callbacks)
    letter = pdf_text(demande.decision_pdf)
    for mention in ("Votre dossier a été étudié par la délégation.", "Pour la présidente, par délégation,",
                    "Commission des recours amiables", "BP 42"):
        assert mention in letter, mention
    assert "Commission nationale des recours" not in letter


def test_a_refusal_decided_before_attestations_existed_gets_its_attestation_from_the_sweep(
        tenant_a, region, instructor, birth_aid, django_capture_on_commit_callbacks):
    from prestations import services

    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=datetime.date.today() - datetime.timedelta(days=9))
    demande = decide(instructor, submitted(tenant_a.agent, birth_aid, child=baby),
                     {"action": "refuse", "reason": "Naissance déjà aidée."}, django_capture_on_commit_callbacks)
    demande.refusal_attestation_pdf.delete(save=True)  # as a refusal of before this version has it
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_missing_letters() == 1
    demande = Demande.objects.get(pk=demande.pk)
    assert demande.refusal_attestation_pdf and demande.decision_pdf
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_missing_letters() == 0
