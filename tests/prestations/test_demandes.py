"""A request from draft to payment, its bad inputs and its tenant boundaries."""

import datetime
import html
import subprocess
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cnas.pdf import blank_pdf
from prestations import services
from prestations.models import Demande, PaymentBatch
from tests import factories, world
from tests.conftest import enroll_totp
from tests.prestations.conftest import TODAY, granted, submitted

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


PDF = blank_pdf()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
IBAN = "FR7630006000011234567890189"


@pytest.fixture
def agent_client(client, tenant_a):
    tenant_a.agent.iban = IBAN
    tenant_a.agent.save()
    client.force_login(tenant_a.agent_user)
    return client


@pytest.fixture
def baby(tenant_a):
    return world.child(tenant_a.agent, first_name="Léa", birth_date=TODAY - datetime.timedelta(days=20))


def start(client, prestation, **data):
    response = client.post(reverse("espace:prestation", args=[prestation.code]), data)
    assert response.status_code == 302, page_text(response)[:2000]
    return Demande.objects.latest("id")


def upload(client, demande, content=PDF, name="acte.pdf", kind=None):
    """Through the form, as the agent: the first kind of document the prestation requires."""
    kind = kind or demande.prestation.required_documents.first()
    return client.post(reverse("espace:demande_document", args=[demande.pk]),
                       {"kind": kind.pk if kind else "autre", "file": SimpleUploadedFile(name, content)}, follow=True)


def staff_client(_client=None, region=None):
    """A client of its own for a staff member (the agent keeps his)."""
    from django.test import Client

    client = Client()
    user = enroll_totp(factories.UserFactory(is_staff=True, is_superuser=region is None))
    if region is not None:
        factories.StaffProfileFactory(user=user, region=region)
        from django.contrib.auth.models import Permission

        user.user_permissions.set(Permission.objects.filter(content_type__app_label="prestations"))
    client.force_login(user)
    return client


def test_the_whole_way_from_draft_to_payment(agent_client, client, tenant_a, baby, birth_aid,
                                             django_capture_on_commit_callbacks):
    page = agent_client.get(reverse("espace:catalogue")).content.decode()
    assert "vous pouvez demander 230,00" in page.replace("\u202f", " ").replace("\xa0", " ")
    demande = start(agent_client, birth_aid, child=baby.pk)
    assert demande.status == "draft" and demande.child == baby

    response = agent_client.post(reverse("espace:demande_submit", args=[demande.pk]), follow=True)
    assert "Joignez les pièces demandées" in page_text(response)
    upload(agent_client, demande)
    with django_capture_on_commit_callbacks(execute=True):
        agent_client.post(reverse("espace:demande_submit", args=[demande.pk]))
    demande.refresh_from_db()
    assert demande.status == "submitted" and demande.amount_computed == Decimal("230.00")
    assert demande.event_key == f"child:{baby.pk}" and demande.region_id == tenant_a.employer.region_id
    assert mail.outbox[-1].to == [tenant_a.agent_user.email] and "déposée" in mail.outbox[-1].subject

    staff = staff_client(client)
    url = reverse("admin:prestations_demande_instruct", args=[demande.pk])
    response = staff.get(reverse("admin:prestations_demande_change", args=[demande.pk]))
    assert "Éligible" in page_text(response) and "Acte de naissance" in page_text(response)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {"action": "accept", "amount": "250", "reason": ""})
    demande.refresh_from_db()
    assert demande.status == "submitted"  # another amount needs a reason
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {"action": "accept", "amount": "", "reason": ""})
    demande.refresh_from_db()
    assert demande.status == "accepted" and demande.amount_granted == Decimal("230.00")
    assert demande.decision_pdf  # rendered by the worker
    with demande.decision_pdf.open("rb") as handle:
        letter = subprocess.run(["pdftotext", "-", "-"], input=handle.read(), capture_output=True).stdout.decode()
    assert "Décision d'attribution" in letter and "230,00" in letter

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:prestations_paymentbatch_prepare"))
    batch = PaymentBatch.objects.get()
    assert batch.count == 1 and batch.total == Decimal("230.00")
    with batch.file.open("rb") as handle:
        xml = handle.read()
    assert b"pain.001.001.03" in xml and IBAN.encode() in xml and b"<InstdAmt Ccy=\"EUR\">230.00" in xml
    import os

    import sepaxml
    import xmlschema

    schema = xmlschema.XMLSchema(os.path.join(os.path.dirname(sepaxml.__file__), "schemas", "pain.001.001.03.xsd"))
    schema.validate(xml.decode())
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:prestations_paymentbatch_changelist"),
                   {"action": "confirm_sent", "_selected_action": [batch.pk]})
    demande.refresh_from_db()
    assert demande.status == "paid" and demande.paid_at is not None

    page = page_text(agent_client.get(reverse("espace:demande", args=[demande.pk])))
    assert "Payée" in page and "Télécharger la lettre de décision" in page
    response = agent_client.get(reverse("espace:demande_decision", args=[demande.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    # beside the contribution, the correspondent sees what the agents received
    from adhesions import services as adhesion_services

    with django_capture_on_commit_callbacks(execute=True):
        adhesion_services.run_campaign_now(actor=None, scale=world.scale(TODAY.year))
    corr = Client()
    corr.force_login(tenant_a.correspondent)
    page = page_text(corr.get(reverse("collectivite:contributions", args=[tenant_a.employer.pk])))
    assert f"prestations versées à vos agents en {TODAY.year} : <strong>230,00 €</strong>" in page


def test_a_second_request_for_the_same_child_is_refused_and_the_database_forbids_a_double_payment(
        agent_client, tenant_a, baby, birth_aid):
    first = granted(tenant_a.agent, birth_aid, child=baby)
    second = start(agent_client, birth_aid, child=baby.pk)
    upload(agent_client, second)
    response = agent_client.post(reverse("espace:demande_submit", args=[second.pk]), follow=True)
    assert "Déjà versée pour Léa" in page_text(response)
    with pytest.raises(IntegrityError), transaction.atomic():
        Demande.objects.create(agent=tenant_a.agent, prestation=birth_aid, child=baby, status="accepted",
                               event_key=first.event_key, amount_granted=Decimal("230"))


@pytest.mark.parametrize("content, name, message", [
    (b"GIF89a" + b"\x00" * 40, "acte.pdf", "n'est ni un PDF"),
    (b"MZ\x90\x00 windows program", "acte.png", "n'est ni un PDF"),
    (b"", "vide.pdf", "vide"),
])
def test_documents_are_checked_from_their_content(agent_client, tenant_a, baby, birth_aid, content, name, message):
    demande = start(agent_client, birth_aid, child=baby.pk)
    response = upload(agent_client, demande, content=content, name=name)
    assert message in page_text(response)
    assert not demande.documents.exists()


def test_a_png_named_pdf_is_accepted_as_png(agent_client, tenant_a, baby, birth_aid):
    demande = start(agent_client, birth_aid, child=baby.pk)
    upload(agent_client, demande, content=PNG, name="photo.pdf")
    assert demande.documents.get().content_type == "image/png"


def test_a_document_over_10_mb_is_refused(tenant_a, baby, birth_aid):
    demande = services.save_draft(actor=None, agent=tenant_a.agent, prestation=birth_aid, child=baby)
    with pytest.raises(services.ValidationError, match="10 Mo"):
        services.add_document(actor=None, demande=demande, label="x",  # a further document, no kind
                              uploaded=SimpleUploadedFile("gros.pdf", PDF + b"0" * (10 * 1024 * 1024)))


def test_withdraw_ask_documents_refuse(agent_client, client, tenant_a, baby, birth_aid,
                                       django_capture_on_commit_callbacks):
    demande = start(agent_client, birth_aid, child=baby.pk)
    upload(agent_client, demande)
    agent_client.post(reverse("espace:demande_submit", args=[demande.pk]))
    staff = staff_client(client)
    url = reverse("admin:prestations_demande_instruct", args=[demande.pk])
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {"action": "ask", "message": "L'acte est illisible."})
    demande.refresh_from_db()
    assert demande.status == "awaiting_documents"
    page = page_text(agent_client.get(reverse("espace:demande", args=[demande.pk])))
    assert "L'acte est illisible." in page
    upload(agent_client, demande, content=PNG, name="acte.png")
    agent_client.post(reverse("espace:demande_message", args=[demande.pk]), {"text": "Voici un meilleur scan."})
    agent_client.post(reverse("espace:demande_submit", args=[demande.pk]))
    demande.refresh_from_db()
    assert demande.status == "submitted"
    staff.post(url, {"action": "refuse", "reason": ""})
    demande.refresh_from_db()
    assert demande.status == "submitted"  # a refusal needs a reason
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {"action": "refuse", "reason": "Enfant déjà déclaré par l'autre parent."})
    demande.refresh_from_db()
    assert demande.status == "refused" and demande.decision_pdf
    response = agent_client.post(reverse("espace:demande_withdraw", args=[demande.pk]), follow=True)
    assert "ne peut plus être retirée" in page_text(response)


def test_employer_attestation(agent_client, client, tenant_a, tenant_b, relief, django_capture_on_commit_callbacks):
    relief.employer_attestation = True
    relief.save()
    demande = start(agent_client, relief, expense="800")
    agent_client.post(reverse("espace:demande_submit", args=[demande.pk]))
    demande.refresh_from_db()
    assert demande.status == "awaiting_attestation" and demande.amount_computed == Decimal("400.00")
    client.force_login(tenant_b.correspondent)  # another employer sees nothing
    assert str(demande.prestation.name) not in client.get(
        reverse("collectivite:attestations", args=[tenant_b.employer.pk])).content.decode()
    assert client.post(reverse("collectivite:attestation_decide", args=[tenant_b.employer.pk, demande.pk]),
                       {"decision": "attest"}).status_code == 404
    assert client.post(reverse("collectivite:attestation_decide", args=[tenant_a.employer.pk, demande.pk]),
                       {"decision": "attest"}).status_code == 404
    client.force_login(tenant_a.correspondent)
    assert "Secours" in client.get(reverse("collectivite:attestations", args=[tenant_a.employer.pk])
                                   ).content.decode()
    client.post(reverse("collectivite:attestation_decide", args=[tenant_a.employer.pk, demande.pk]),
                {"decision": "attest"})
    demande.refresh_from_db()
    assert demande.status == "submitted" and demande.attested_by == tenant_a.correspondent


def test_another_agents_requests_answer_404(agent_client, tenant_a, tenant_b, birth_aid):
    other = services.save_draft(actor=None, agent=tenant_b.agent, prestation=birth_aid, child=tenant_b.child)
    for name in ("demande", "demande_decision"):
        assert agent_client.get(reverse(f"espace:{name}", args=[other.pk])).status_code == 404
    for name in ("demande_submit", "demande_withdraw", "demande_message", "demande_document"):
        assert agent_client.post(reverse(f"espace:{name}", args=[other.pk])).status_code == 404
    assert agent_client.get(reverse("espace:demande_file", args=[other.pk, 1])).status_code == 404


def test_staff_see_their_region_only(client, tenant_a, tenant_b, relief):
    mine = submitted(tenant_a.agent, relief, expense=Decimal("100"))
    theirs = submitted(tenant_b.agent, relief, expense=Decimal("100"))
    assert mine.region == tenant_a.employer.region and theirs.region == tenant_b.employer.region
    staff = staff_client(client, region=tenant_a.employer.region)
    listing = staff.get(reverse("admin:prestations_demande_changelist"))
    ids = [d.pk for d in listing.context["cl"].result_list]
    assert ids == [mine.pk]
    assert staff.get(reverse("admin:prestations_demande_change", args=[theirs.pk])).status_code == 404
    assert staff.post(reverse("admin:prestations_demande_instruct", args=[theirs.pk]),
                      {"action": "refuse", "reason": "x"}).status_code == 404


def test_bank_details_and_tax_figures(agent_client, tenant_a):
    response = agent_client.post(reverse("espace:bank"), {"iban": "FR76 3000 6000 0112 3456 7890 188", "bic": ""})
    assert "IBAN valide" in page_text(response)
    agent_client.post(reverse("espace:bank"), {"iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "agrifrpp"})
    tenant_a.agent.refresh_from_db()
    assert tenant_a.agent.iban == IBAN and tenant_a.agent.bic == "AGRIFRPP"
    response = agent_client.post(reverse("espace:tax"), {
        "year": TODAY.year - 1, "reference_income": "28 800", "shares": "3",
        "notice": SimpleUploadedFile("avis.pdf", PDF)}, follow=True)
    assert "Votre quotient familial est de 800,00 €" in page_text(response)
    assert response.redirect_chain[-1][0] == reverse("espace:catalogue")  # the effect on the rights
    response = agent_client.post(reverse("espace:tax"), {
        "year": TODAY.year - 1, "reference_income": "1000", "shares": "1",
        "notice": SimpleUploadedFile("avis.pdf", b"not a pdf")})
    assert "pas un PDF" in page_text(response)


def test_pages_keep_a_fixed_number_of_queries(agent_client, tenant_a, tenant_b, baby, birth_aid, school_aid,
                                              relief):
    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert agent_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    demande = start(agent_client, birth_aid, child=baby.pk)
    urls = [reverse("espace:catalogue"), reverse("espace:demandes"), reverse("espace:demande", args=[demande.pk]),
            reverse("espace:prestation", args=["secours"]) + "?expense=800"]
    before = [count(url) for url in urls]
    for n in range(15):  # more requests, of this agent and of others, change nothing
        granted(tenant_a.agent, relief, expense=Decimal("1"), decided_at=datetime.datetime(
            2020, 1, 1 + n, 12, tzinfo=datetime.UTC), at=datetime.datetime(2020, 1, 1 + n, 9, tzinfo=datetime.UTC))
        submitted(tenant_b.agent, relief, expense=Decimal("10"))
    after = [count(url) for url in urls]
    assert after == before


def test_the_household_choice_and_the_documents_are_read_once(agent_client, baby, birth_aid):
    """The child to choose is read by one plain query (Django's choice iterator opened a server-side cursor:
    DECLARE, FETCH, CLOSE), and a request's page reads its documents and the kinds required once."""
    def queries(url):
        with CaptureQueriesContext(connection) as ctx:
            response = agent_client.get(url)
        assert response.status_code == 200
        return response, [q["sql"] for q in ctx.captured_queries]

    response, sql = queries(reverse("espace:prestation", args=[birth_aid.code]))
    assert f'<option value="{baby.pk}">' in response.content.decode()
    assert not [q for q in sql if "DECLARE" in q or "CURSOR" in q]
    assert len([q for q in sql if 'FROM "accounts_familymember"' in q]) == 1
    demande = start(agent_client, birth_aid, child=baby.pk)
    upload(agent_client, demande)
    response, sql = queries(reverse("espace:demande", args=[demande.pk]))
    assert len([q for q in sql if 'FROM "prestations_demandedocument"' in q]) == 1
    assert len([q for q in sql if 'FROM "prestations_documentkind"' in q]) == 1
    text = page_text(response)
    assert "acte.pdf" in text and "Ajouter la pièce" in text


def test_delays_over_90_days_kept_by_the_worker_and_shown(birth_aid, tenant_a, client):
    now = datetime.datetime.now(datetime.UTC)
    for n, (days, age) in enumerate(((2, 10), (4, 20), (30, 200))):  # the last is older than 90 days
        child = world.child(tenant_a.agent, first_name=f"Enfant{n}", birth_date=(now - datetime.timedelta(
            days=age + days + 5)).date())
        demande = submitted(tenant_a.agent, birth_aid, child=child, at=now - datetime.timedelta(days=age + days))
        with __import__("time_machine").travel(now - datetime.timedelta(days=age), tick=False):
            services.refuse(actor=None, demande=demande, reason="x")
    from prestations.tasks import refresh_indicators

    client.force_login(tenant_a.agent.user)
    page = f"/espace/prestations/{birth_aid.code}/"
    assert "Pas encore de délai" in client.get(page).content.decode()  # nothing computed yet: no scan at each view
    refresh_indicators()  # the worker's task (beat, every ten minutes)
    birth_aid.delays.refresh_from_db()
    assert (birth_aid.delays.decided, birth_aid.delays.median_days, birth_aid.delays.p90_days) == (2, Decimal("3.0"),
                                                                                                   Decimal("3.8"))
    text = " ".join(client.get(page).content.decode().split())
    assert "la moitié des demandes ont été décidées en 3 jour(s) au plus, 9 sur 10 en 3,8 jour(s)" in text


def test_daily_digest_of_late_requests_by_region(tenant_a, tenant_b, relief):
    from prestations.tasks import send_instruction_digest

    old = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=relief.instruction_limit_days + 2)
    submitted(tenant_a.agent, relief, expense=Decimal("100"), at=old)
    submitted(tenant_b.agent, relief, expense=Decimal("100"))  # not late
    here = factories.StaffProfileFactory(region=tenant_a.employer.region, user__email="ici@exemple.test")
    factories.StaffProfileFactory(region=tenant_b.employer.region, user__email="la@exemple.test")
    assert send_instruction_digest() == 1
    assert mail.outbox[-1].to == [here.user.email] and "1 demande(s)" in mail.outbox[-1].subject
