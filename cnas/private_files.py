"""Personal and financial files: stored under PRIVATE_MEDIA_ROOT, never under a public
URL, and served only by views that have checked who asks."""

import hashlib

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404
from django.utils.deconstruct import deconstructible


@deconstructible
class PrivateStorage(FileSystemStorage):
    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def base_url(self):
        return None  # no URL: only views serve these files

    def url(self, name):
        raise ValueError("Private files have no public URL; serve them with cnas.private_files.serve().")


private_storage = PrivateStorage()


def serve(file_field, *, filename: str | None = None, inline: bool = False) -> FileResponse:
    """Send a private file to a requester the calling view has already authorised."""
    if not file_field:
        raise Http404
    try:
        handle = file_field.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=not inline, filename=filename or file_field.name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def sha256_of(uploaded) -> str:
    digest = hashlib.sha256()
    for chunk in uploaded.chunks():
        digest.update(chunk)
    uploaded.seek(0)
    return digest.hexdigest()


PDF_MAGIC = b"%PDF-"


def looks_like_pdf(uploaded) -> bool:
    """The content says PDF, whatever the name says."""
    head = uploaded.read(1024)
    uploaded.seek(0)
    return head.lstrip()[:5] == PDF_MAGIC


def private_upload_path(prefix: str, filename: str) -> str:
    """Where an uploaded private file goes: a folder of its kind, a random folder (names never
    collide nor reveal each other), and a cleaned name."""
    import uuid

    safe = "".join(c for c in filename if c.isalnum() or c in "._-")[-80:] or "fichier"
    return f"{prefix}/{uuid.uuid4().hex}/{safe}"
