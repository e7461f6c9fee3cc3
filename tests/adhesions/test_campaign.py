"""The campaign: calls issued once, PDFs rendered once, regularisations, access to PDFs."""

import datetime
import subprocess
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from adhesions import services
from adhesions.models import Campaign, CampaignChunk, ContributionCall, ContributionScale, PayrollDeclaration
from cnas.models import OutboxItem
from tests import factories
from tests.conftest import enroll_totp

pytestmark = pytest.mark.django_db
D = datetime.date
Y = datetime.date.today().year


def pdf_text(call) -> str:
    with call.pdf.open("rb") as handle:
        data = handle.read()
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return result.stdout.decode()


@pytest.fixture
def scale():
    return ContributionScale.objects.create(
        year=Y, payroll_rate=Decimal("0.86"), floor_per_agent=Decimal("150"), ceiling_per_agent=Decimal("400"),
        cos_per_agent=Decimal("120"), retired_flat=Decimal("137.80"), due_date=D(Y, 3, 31), grace_days=60)


@pytest.fixture
def world(tenant_a, tenant_b):
    """Commune A declared its payroll; its agent is a member of COS A and paid this year's fee."""
    from tests import world as build

    build.declare(tenant_a.employer, Y - 1, "40000", working=1)
    build.serve(tenant_a.cos, tenant_a.employer)
    build.pay_fee(build.join_cos(tenant_a.cos, tenant_a.agent, D(2019, 1, 1)), Y, paid_on=D(Y, 1, 10))
    return tenant_a, tenant_b


def run(scale, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaign = services.start_campaign(actor=None, scale=scale)
    campaign.refresh_from_db()
    return campaign


def test_campaign_issues_and_renders_every_call_once(scale, world, django_capture_on_commit_callbacks):
    tenant_a, _ = world
    campaign = run(scale, django_capture_on_commit_callbacks)
    assert campaign.status == Campaign.Status.DONE and campaign.computed_count == 4
    calls = ContributionCall.objects.filter(campaign=campaign)
    assert {c.render_count for c in calls} == {1}
    call = calls.get(adherent=tenant_a.employer)
    assert call.amount == Decimal("344.00") and call.reference == f"C{Y}-{tenant_a.employer.pk:06d}"
    # due at the scale's date, or 30 days after issue for a call issued later than that
    due = max(D(Y, 3, 31), datetime.date.today() + datetime.timedelta(days=30))
    assert call.due_date == due
    text = pdf_text(call)
    for expected in [call.reference, "Commune a", tenant_a.employer.siret, due.strftime("%d/%m/%Y"), "344,00",
                     "FR76 3000 6000 0112 3456 7890 189", "40 000,00"]:
        assert expected in text.replace("\u202f", " ").replace("\xa0", " "), expected
    cos_call = calls.get(adherent=tenant_a.cos)
    assert cos_call.amount == Decimal("120.00")

    # Again, after the data changed: nothing issued changes, nothing is rendered twice.
    PayrollDeclaration.objects.create(adherent=tenant_a.employer, year=Y - 1, gross_payroll=Decimal("200000"),
                                      working_headcount=1, retired_headcount=0)
    newcomer = factories.AdhesionFactory(start_date=D(2020, 1, 1)).adherent
    campaign = run(scale, django_capture_on_commit_callbacks)
    assert campaign.status == Campaign.Status.DONE and campaign.computed_count == 5
    call.refresh_from_db()
    assert call.amount == Decimal("344.00") and call.render_count == 1
    assert ContributionCall.objects.get(adherent=newcomer).render_count == 1


def test_regularisation_after_a_correction(scale, world, django_capture_on_commit_callbacks):
    tenant_a, _ = world
    run(scale, django_capture_on_commit_callbacks)
    PayrollDeclaration.objects.create(adherent=tenant_a.employer, year=Y - 1, gross_payroll=Decimal("20000"),
                                      working_headcount=1, retired_headcount=0, is_correction=True, reason="erreur")
    with django_capture_on_commit_callbacks(execute=True):
        credit = services.regularise(actor=None, adherent=tenant_a.employer, year=Y)
    credit.refresh_from_db()
    assert credit.amount == Decimal("-172.00") and credit.kind == "regularisation"
    assert credit.reference == f"R{Y}-{tenant_a.employer.pk:06d}-1"
    assert "Avoir de régularisation" in pdf_text(credit)
    with pytest.raises(ValidationError, match="Rien à régulariser"):
        services.regularise(actor=None, adherent=tenant_a.employer, year=Y)


def test_a_failed_chunk_is_retried_alone(scale, world, django_capture_on_commit_callbacks, monkeypatch):
    original = services.contributions.render_pdf
    monkeypatch.setattr(services.contributions, "render_pdf",
                        lambda *a, **k: (_ for _ in ()).throw(OSError("disque plein")))
    run(scale, django_capture_on_commit_callbacks)  # the worker does not crash: the chunk fails, alone
    campaign = Campaign.objects.get()
    failed = OutboxItem.objects.get(task="adhesions.tasks.render_chunk")
    assert failed.completed_at is None and failed.attempts == 1 and "disque plein" in failed.last_error
    assert campaign.status == Campaign.Status.FAILED
    chunk = campaign.chunks.get()
    assert chunk.status == CampaignChunk.Status.FAILED and "disque plein" in chunk.error
    monkeypatch.setattr(services.contributions, "render_pdf", original)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.retry_failed_chunks(actor=None, campaign=campaign) == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DONE
    assert set(ContributionCall.objects.values_list("render_count", flat=True)) == {1}



def test_a_failure_in_the_middle_of_a_batch_leaves_no_file_and_no_half_batch(
        scale, world, django_capture_on_commit_callbacks, monkeypatch):
    """Calls are rendered ten to a transaction: when the third of a batch fails, the files written for the
    first two are deleted with the rollback, and the retry renders every call once."""
    from django.core.files.storage import Storage

    storage = ContributionCall._meta.get_field("pdf").storage
    original, rendered, written = services.contributions.render_pdf, [], []
    save = Storage.save
    monkeypatch.setattr(Storage, "save", lambda *a, **k: written.append(save(*a, **k)) or written[-1])

    def third_fails(*args, **kwargs):
        rendered.append(args[1]["call"].pk)
        if len(rendered) == 3:
            raise OSError("disque plein")
        return original(*args, **kwargs)

    monkeypatch.setattr(services.contributions, "render_pdf", third_fails)
    run(scale, django_capture_on_commit_callbacks)
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.FAILED and len(rendered) == 3  # 4 calls, one batch
    assert not ContributionCall.objects.exclude(pdf="").exists()
    assert set(ContributionCall.objects.values_list("render_count", flat=True)) == {0}
    assert len(written) == 2 and not any(storage.exists(name) for name in written)  # no file left behind
    monkeypatch.setattr(services.contributions, "render_pdf", original)
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_failed_chunks(actor=None, campaign=campaign)
    assert set(ContributionCall.objects.values_list("render_count", flat=True)) == {1}
    assert all(call.pdf.storage.exists(call.pdf.name) for call in ContributionCall.objects.all())

def test_run_campaign_command(scale, world, capsys):
    call_command("run_campaign", str(Y), "--dry-run")
    out = capsys.readouterr().out
    assert "collectivité territoriale" in out and "2 appel(s)" in out and "simulation" in out
    assert not ContributionCall.objects.exists()
    call_command("run_campaign", str(Y))
    assert "terminée, 4 appels" in capsys.readouterr().out
    assert ContributionCall.objects.exclude(pdf="").count() == 4
    with pytest.raises(CommandError, match="Aucun barème"):
        call_command("run_campaign", "1999")


def test_the_campaign_opens_on_a_confirmation_page_then_shows_its_progress(
        client, scale, world, django_capture_on_commit_callbacks):
    from django.core import mail

    from tests.security.conftest import staff

    tenant_a, tenant_b = world
    page_url = reverse("admin:adhesions_contributionscale_campaign", args=[scale.pk])
    instructor = staff("instr@cnas.test", "Instructeur", region=tenant_a.employer.region)
    client.force_login(instructor)
    assert client.get(page_url).status_code == 403  # not his job: he does not even read the scales
    accountant = staff("compta@cnas.test", "Comptable", national=True)
    client.force_login(accountant)
    listing = client.get(reverse("admin:adhesions_contributionscale_changelist")).content.decode()
    assert page_url in listing and "Préparer la campagne" in listing
    page = client.get(page_url).content.decode().replace("\u202f", " ").replace("\xa0", " ")
    assert f"Campagne de cotisation {Y}" in page and f"masse salariale de {Y - 1}" in page
    assert "collectivité territoriale" in page.lower() and "COS" in page
    assert tenant_b.employer.name in page and tenant_a.employer.name not in page  # B declared nothing
    assert "Comptable" in page  # who may launch

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url, {"action": "remind"}, follow=True)
    assert "1 adhérent relancé" in response.content.decode()
    assert mail.outbox[-1].to == [tenant_b.correspondent.email] and str(Y - 1) in mail.outbox[-1].subject

    response = client.post(page_url, {"action": "start"}, follow=True)
    assert "Cochez la case de confirmation" in response.content.decode() and not Campaign.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page_url, {"action": "start", "confirm": "on"})
    campaign = Campaign.objects.get()
    assert response.url == reverse("admin:adhesions_campaign_change", args=[campaign.pk])
    figures = client.get(reverse("admin:adhesions_campaign_progress", args=[campaign.pk])).json()
    assert figures == {"status": "done", "label": "terminée", "computed": 4, "rendered": 4, "failed_chunks": 0,
                       "running": False, "progress": 100}
    page = client.get(response.url).content.decode()
    assert "4 appels calculés, 4 PDF édités" in page


def test_a_campaign_more_than_a_year_ahead_is_refused(client, world):
    from tests.security.conftest import staff

    far = ContributionScale.objects.create(year=Y + 2, payroll_rate=Decimal("0.86"), floor_per_agent=Decimal("150"),
                                           cos_per_agent=Decimal("120"), due_date=D(Y + 2, 3, 31))
    with pytest.raises(ValidationError, match="au plus"):
        services.start_campaign(actor=None, scale=far)
    client.force_login(staff("compta@cnas.test", "Comptable", national=True))
    url = reverse("admin:adhesions_contributionscale_campaign", args=[far.pk])
    assert "au plus celle de l'année prochaine" in client.get(url).content.decode().replace("&#x27;", "'")
    client.post(url, {"action": "start", "confirm": "on"})
    assert not Campaign.objects.exists()


# --- Access to the PDFs ---------------------------------------------------------------------

@pytest.fixture
def issued(scale, world, django_capture_on_commit_callbacks):
    run(scale, django_capture_on_commit_callbacks)
    return world


def test_correspondent_downloads_own_call_only(client, issued):
    tenant_a, tenant_b = issued
    own = ContributionCall.objects.get(adherent=tenant_a.employer)
    other = ContributionCall.objects.get(adherent=tenant_b.employer)
    client.force_login(tenant_a.correspondent)
    page = client.get(reverse("collectivite:contributions", args=[tenant_a.employer.pk]))
    assert own.reference in page.content.decode() and other.reference not in page.content.decode()
    response = client.get(reverse("collectivite:call_pdf", args=[tenant_a.employer.pk, own.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    for adherent, call in ((tenant_a.employer, other), (tenant_b.employer, other)):
        assert client.get(reverse("collectivite:call_pdf", args=[adherent.pk, call.pk])).status_code == 404
    assert client.get(reverse("collectivite:contributions", args=[tenant_b.employer.pk])).status_code == 404
    assert client.get(reverse("cos:call_pdf", args=[tenant_a.cos.pk,
                                                    ContributionCall.objects.get(adherent=tenant_a.cos).pk])
                      ).status_code == 404


def test_cos_admin_downloads_the_cos_call(client, issued):
    tenant_a, tenant_b = issued
    call = ContributionCall.objects.get(adherent=tenant_a.cos)
    client.force_login(tenant_a.cos_admin)
    assert client.get(reverse("cos:call_pdf", args=[tenant_a.cos.pk, call.pk])).status_code == 200
    other = ContributionCall.objects.get(adherent=tenant_b.cos)
    assert client.get(reverse("cos:call_pdf", args=[tenant_b.cos.pk, other.pk])).status_code == 404


def test_agents_and_anonymous_cannot_download(client, issued):
    tenant_a, _ = issued
    call = ContributionCall.objects.get(adherent=tenant_a.employer)
    url = reverse("collectivite:call_pdf", args=[tenant_a.employer.pk, call.pk])
    assert client.get(url).status_code == 302
    client.force_login(tenant_a.agent_user)
    assert client.get(url).status_code == 404


def test_staff_download_from_the_admin(client, issued):
    tenant_a, _ = issued
    call = ContributionCall.objects.get(adherent=tenant_a.employer)
    client.force_login(enroll_totp(factories.UserFactory(is_staff=True, is_superuser=True)))
    assert client.get(reverse("admin:adhesions_contributioncall_file", args=[call.pk])).status_code == 200
    assert client.get(reverse("admin:adhesions_contributioncall_changelist")).status_code == 200


def test_certificate_once_the_year_is_paid(client, issued):
    tenant_a, _ = issued
    call = ContributionCall.objects.get(adherent=tenant_a.employer)
    client.force_login(tenant_a.correspondent)
    url = reverse("collectivite:certificate", args=[tenant_a.employer.pk, Y])
    assert client.get(url).status_code == 404
    services.record_payment(actor=None, call=call, amount=Decimal("200"), paid_on=D(Y, 3, 1))
    assert client.get(url).status_code == 404  # partly paid
    services.record_payment(actor=None, call=call, amount=Decimal("144"), paid_on=D(Y, 3, 2))
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"%PDF" in response.content[:10]
    page = client.get(reverse("collectivite:contributions", args=[tenant_a.employer.pk])).content.decode()
    assert ("réglée" in page and "Attestation d&#x27;adhésion" in page) or "Attestation d'adhésion" in page
