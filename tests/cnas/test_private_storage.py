"""Private files past one machine: STORAGES["private"] is an S3-compatible bucket (moto's real HTTP
server on 127.0.0.1) that the web and the workers share. A document uploaded by an agent through the
page and a decision letter rendered by a real Celery worker land in the bucket, never on a disk, and
are served by the portal's views, to their owner only; deleting works; nothing has a URL."""

import datetime
import json
import secrets
import subprocess
import sys
import uuid

import boto3
import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from moto.server import ThreadedMotoServer

from cnas import private_files
from cnas.checks import check_private_storage
from cnas.pdf import blank_pdf
from prestations.models import Demande, DemandeDocument
from tests import world
from tests.cnas.test_settings_and_stack import ROOT, clean_environ, run_manage
from tests.prestations.conftest import prestation
from tests.prestations.test_demandes import IBAN, page_text, staff_client
from tests.workers import start_worker, stop_worker, wait

TODAY = datetime.date.today()
PDF = blank_pdf()
REGION = "eu-west-3"
LOCATION = "private"
KEYS = {"PRIVATE_S3_ACCESS_KEY_ID": "cnas-test", "PRIVATE_S3_SECRET_ACCESS_KEY": "cnas-test-secret"}


# --- The object store ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server, over real HTTP on a free port of 127.0.0.1."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=KEYS["PRIVATE_S3_ACCESS_KEY_ID"],
                        aws_secret_access_key=KEYS["PRIVATE_S3_SECRET_ACCESS_KEY"])


@pytest.fixture
def s3_environment(s3_endpoint, tmp_path):
    """A new bucket, and the environment of a machine that keeps its private files there (what
    docker-compose.yml gives web and worker)."""
    bucket = f"cnas-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return {"PRIVATE_S3_BUCKET": bucket, "PRIVATE_S3_ENDPOINT_URL": s3_endpoint, "PRIVATE_S3_REGION": REGION,
            **KEYS, "PRIVATE_S3_LOCATION": LOCATION, "PRIVATE_S3_ENCRYPTION": "AES256"}


def private_storage_of(**env) -> dict:
    """settings.STORAGES["private"] in a process of that environment."""
    environ = {k: v for k, v in clean_environ().items() if not k.startswith("PRIVATE_S3_")}
    code = "import json, cnas.settings as s; print(json.dumps(s.STORAGES['private']))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**environ, **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def web_disk(tmp_path):
    folder = tmp_path / "web-disk"
    folder.mkdir()
    return folder


@pytest.fixture
def private_in_bucket(s3_environment, web_disk):
    """This process (the web) keeps its private files in the bucket, configured as the settings
    configure it from the environment; PRIVATE_MEDIA_ROOT points at an empty folder, to show that
    nothing lands on the disk."""
    config = private_storage_of(**s3_environment)
    with override_settings(STORAGES={**settings.STORAGES, "private": config}, PRIVATE_MEDIA_ROOT=web_disk):
        yield s3_environment


def bucket_keys(environment: dict) -> list[str]:
    listing = s3_client(environment["PRIVATE_S3_ENDPOINT_URL"]).list_objects_v2(
        Bucket=environment["PRIVATE_S3_BUCKET"])
    return sorted(entry["Key"] for entry in listing.get("Contents", []))


def on_disk(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()]


def file_response(response) -> bytes:
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    return b"".join(response.streaming_content)


# --- Settings -------------------------------------------------------------------------------

def test_the_environment_chooses_local_disk_or_the_bucket():
    assert private_storage_of() == {"BACKEND": "cnas.private_files.PrivateStorage"}
    config = private_storage_of(PRIVATE_S3_BUCKET="cnas-private", PRIVATE_S3_ENDPOINT_URL="http://objectstore:9000",
                                PRIVATE_S3_ENCRYPTION="aws:kms", PRIVATE_S3_KMS_KEY_ID="cle-1", **KEYS)
    assert config == {"BACKEND": "cnas.private_s3.PrivateS3Storage", "OPTIONS": {
        "bucket_name": "cnas-private", "endpoint_url": "http://objectstore:9000", "location": "private",
        "access_key": "cnas-test", "secret_key": "cnas-test-secret", "addressing_style": "path",
        "object_parameters": {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "cle-1"}}}
    # On AWS itself: its own addressing, the credentials of the machine's role.
    assert private_storage_of(PRIVATE_S3_BUCKET="b", PRIVATE_S3_REGION="eu-west-3")["OPTIONS"] == {
        "bucket_name": "b", "region_name": "eu-west-3", "location": "private", "object_parameters": {}}


def test_every_private_file_field_follows_the_settings_of_the_moment(s3_environment, web_disk):
    field = DemandeDocument._meta.get_field("file")
    assert field.deconstruct()[3]["storage"] is private_files.private_storage  # migrations name the callable
    assert isinstance(field.storage, FileSystemStorage)
    with override_settings(STORAGES={**settings.STORAGES, "private": private_storage_of(**s3_environment)}):
        from cnas.private_s3 import PrivateS3Storage

        assert isinstance(field.storage, PrivateS3Storage) and field.storage.bucket_name == s3_environment[
            "PRIVATE_S3_BUCKET"]
        with pytest.raises(ValueError):
            field.storage.url("decisions/x.pdf")  # not even a signed URL: only the views serve files
    assert isinstance(field.storage, FileSystemStorage)
    with override_settings(PRIVATE_MEDIA_ROOT=web_disk):
        assert field.storage.path("x.pdf") == str(web_disk / "x.pdf")


# --- Through the pages and the worker --------------------------------------------------------

@pytest.fixture
def birth_request(tenant_a):
    """An agent's draft for a birth, made through the page."""
    aid = prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12, child_max_age=17,
                     documents=["Acte de naissance"])
    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=TODAY - datetime.timedelta(days=20))
    agent = Client()
    agent.force_login(tenant_a.agent_user)
    assert agent.post(reverse("espace:bank"), {"iban": IBAN, "bic": ""}).status_code in (200, 302)
    response = agent.post(reverse("espace:prestation", args=[aid.code]), {"child": baby.pk})
    assert response.status_code == 302, page_text(response)[:2000]
    return agent, aid, Demande.objects.get(agent=tenant_a.agent)


def other_agent(tenant_b) -> Client:
    client = Client()
    client.force_login(tenant_b.agent_user)
    return client


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_document_and_a_letter_live_in_the_bucket_and_are_served_to_their_owner_only(
        private_in_bucket, web_disk, birth_request, tenant_b, real_worker):
    store = private_in_bucket
    agent, aid, demande = birth_request
    assert bucket_keys(store) == []

    # The agent uploads his document through the page: it goes to the bucket, under the prefix.
    response = agent.post(reverse("espace:demande_document", args=[demande.pk]), {
        "kind": aid.required_documents.get().pk, "file": SimpleUploadedFile("acte.pdf", PDF)}, follow=True)
    assert response.status_code == 200
    document = demande.documents.get()
    key = f"{LOCATION}/{document.file.name}"
    assert document.file.name.startswith("documents/") and bucket_keys(store) == [key]
    stored = s3_client(store["PRIVATE_S3_ENDPOINT_URL"]).get_object(Bucket=store["PRIVATE_S3_BUCKET"], Key=key)
    assert stored["Body"].read() == PDF and stored["ServerSideEncryption"] == "AES256"
    assert on_disk(web_disk) == []

    file_url = reverse("espace:demande_file", args=[demande.pk, document.pk])
    response = agent.get(file_url)
    assert file_response(response) == PDF
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("inline")
    assert other_agent(tenant_b).get(file_url).status_code == 404

    # Sent and accepted: the real worker renders the letter into the bucket.
    assert agent.post(reverse("espace:demande_submit", args=[demande.pk])).status_code == 302
    response = staff_client().post(reverse("admin:prestations_demande_instruct", args=[demande.pk]),
                                   {"action": "accept", "amount": "", "reason": ""})
    assert response.status_code == 302
    wait(lambda: Demande.objects.exclude(decision_pdf="").filter(pk=demande.pk).exists(), 60, "the letter")
    demande.refresh_from_db()
    letter_key = f"{LOCATION}/{demande.decision_pdf.name}"
    assert demande.decision_pdf.name.startswith("decisions/") and letter_key in bucket_keys(store)
    assert on_disk(web_disk) == []

    decision_url = reverse("espace:demande_decision", args=[demande.pk])
    response = agent.get(decision_url)
    letter = file_response(response)
    assert letter.startswith(b"%PDF-") and int(response["Content-Length"]) == len(letter)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="decision-{demande.pk}.pdf"'
    assert other_agent(tenant_b).get(decision_url).status_code == 404

    # Deleting goes to the bucket too; the page then says 404, not 500.
    storage, name = document.file.storage, document.file.name
    assert storage.exists(name)
    document.file.delete(save=False)
    assert not storage.exists(name)
    assert key not in bucket_keys(store) and letter_key in bucket_keys(store)
    assert agent.get(file_url).status_code == 404


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_another_machine_renders_the_letter_that_the_web_serves(
        private_in_bucket, web_disk, birth_request, tmp_path, not_eager):
    """The worker is another process with its own, empty disk and only its environment: the letter
    it renders is in the bucket, and this process (the web) serves it."""
    agent, aid, demande = birth_request
    agent.post(reverse("espace:demande_document", args=[demande.pk]), {
        "kind": aid.required_documents.get().pk, "file": SimpleUploadedFile("acte.pdf", PDF)})
    assert agent.post(reverse("espace:demande_submit", args=[demande.pk])).status_code == 302
    worker_disk = tmp_path / "worker-disk"
    worker_disk.mkdir()
    worker = start_worker(**private_in_bucket, PRIVATE_MEDIA_ROOT=str(worker_disk))
    try:
        staff_client().post(reverse("admin:prestations_demande_instruct", args=[demande.pk]),
                            {"action": "accept", "amount": "", "reason": ""})
        wait(lambda: Demande.objects.exclude(decision_pdf="").filter(pk=demande.pk).exists(), 90,
             "the worker's letter", every=0.5)
    finally:
        stop_worker(worker)
    demande.refresh_from_db()
    assert f"{LOCATION}/{demande.decision_pdf.name}" in bucket_keys(private_in_bucket)
    assert on_disk(worker_disk) == [] and on_disk(web_disk) == []
    assert file_response(agent.get(reverse("espace:demande_decision", args=[demande.pk]))).startswith(b"%PDF-")


# --- The deployment check ---------------------------------------------------------------------

def s3_config(**options) -> dict:
    return {"BACKEND": "cnas.private_s3.PrivateS3Storage",
            "OPTIONS": {"access_key": "k", "secret_key": "s", "region_name": REGION, **options}}


def test_the_deploy_check_refuses_a_bucket_less_or_public_private_storage(settings):
    def errors(config):
        settings.STORAGES = {**settings.STORAGES, "private": config}
        return [error.id for error in check_private_storage()]

    assert errors({"BACKEND": "cnas.private_files.PrivateStorage"}) == []
    assert errors(s3_config(bucket_name="cnas-private")) == []
    assert errors(s3_config(bucket_name="cnas-private", default_acl="private")) == []
    assert errors(s3_config()) == ["cnas.E004"]
    assert errors(s3_config(bucket_name="cnas-private", default_acl="public-read")) == ["cnas.E005"]
    assert errors(s3_config(bucket_name="b", object_parameters={"ACL": "authenticated-read"})) == ["cnas.E005"]
    grant = {"GrantRead": 'uri="http://acs.amazonaws.com/groups/global/AllUsers"'}
    assert errors(s3_config(bucket_name="b", object_parameters=grant)) == ["cnas.E005"]
    # django-storages' own backend signs URLs that reach a file without the portal: refused too.
    plain = {**s3_config(bucket_name="b"), "BACKEND": "storages.backends.s3.S3Storage"}
    assert errors(plain) == ["cnas.E006"]
    settings.STORAGES = {k: v for k, v in settings.STORAGES.items() if k != "private"}
    assert [error.id for error in check_private_storage()] == ["cnas.E003"]


def test_check_deploy_refuses_a_public_acl_from_the_environment_and_accepts_a_private_bucket():
    production = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "example.org",
                  "SITE_URL": "https://example.org", "PRIVATE_S3_BUCKET": "cnas-private",
                  "PRIVATE_S3_ENDPOINT_URL": "http://objectstore:9000", **KEYS}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production, PRIVATE_S3_ACL="public-read")
    assert result.returncode != 0 and "cnas.E005" in result.stderr
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **production, PRIVATE_S3_ENCRYPTION="AES256")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
