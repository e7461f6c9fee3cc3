"""Personal and financial files: kept in Django's ``STORAGES["private"]``, never under a public URL,
and served only by views that have checked who asks.

Every private FileField says ``storage=private_storage``: a callable, so that migrations name it and
never the backend, which the environment chooses (cnas.settings): ``PrivateStorage`` on the local disk
under PRIVATE_MEDIA_ROOT by default, ``cnas.private_s3.PrivateS3Storage`` in an S3-compatible bucket
when PRIVATE_S3_BUCKET is set, so that a web process on one machine serves what a worker on another
wrote. Neither gives a URL: the files are always streamed by ``serve()``, after the view's check."""

import hashlib

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.http import FileResponse, Http404
from django.utils.deconstruct import deconstructible
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext as _

NO_URL = "Private files have no public URL; serve them with cnas.private_files.serve()."


@deconstructible
class PrivateStorage(FileSystemStorage):
    """The local backend (one machine): files under PRIVATE_MEDIA_ROOT, no URL."""

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property
    def base_url(self):
        return None  # no URL: only views serve these files

    def url(self, name):
        raise ValueError(NO_URL)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("location", None)


class _PrivateStorage(LazyObject):
    """``storages["private"]``, looked up again after the settings change (override_settings in tests):
    a FileField keeps the storage its callable gave when the model was defined, so it is this proxy."""

    def _setup(self):
        self._wrapped = storages["private"]


_private = _PrivateStorage()


def private_storage() -> Storage:
    """The storage of every private FileField (``storage=private_storage``)."""
    return _private


def _storages_changed(*, setting, **kwargs):
    # Django empties its own registry of storages when STORAGES changes (django.test.signals); the
    # proxy then asks it again.
    if setting == "STORAGES":
        _private._wrapped = empty


setting_changed.connect(_storages_changed, dispatch_uid="cnas.private_files.storages_changed")


# Only these are ever shown in the browser; anything else is downloaded as an opaque file.
INLINE_TYPES = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
OPAQUE = "application/octet-stream"


def serve(file_field, *, content_type: str, filename: str | None = None, inline: bool = False) -> FileResponse:
    """Send a private file to a requester the calling view has already authorised.

    ``content_type`` is the type read from the content when the file was stored (or produced),
    never guessed from its name. Only PDF and images are shown inline, under the extension of their
    type; the rest is an attachment. The file can run nothing: nosniff, and a sandboxing CSP."""
    if not file_field:
        raise Http404
    try:
        handle = file_field.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    name = filename or file_field.name.rsplit("/", 1)[-1]
    shown = inline and content_type in INLINE_TYPES
    if content_type in INLINE_TYPES:
        stem = name.rsplit(".", 1)[0] if "." in name else name
        name = stem + INLINE_TYPES[content_type]
    response = FileResponse(handle, as_attachment=not shown, filename=name,
                            content_type=content_type if content_type in INLINE_TYPES or not shown else OPAQUE)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Frame-Options"] = "SAMEORIGIN"  # the instruction page previews documents in a frame
    if content_type != "application/pdf":  # a browser's PDF viewer does not open in a sandbox
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


# --- Checking what is uploaded ------------------------------------------------------------------

MAX_UPLOAD = 10 * 1024 * 1024
# Names that make a PDF do something when it is opened: scripts, launching programs, files inside it.
ACTIVE_PDF_NAMES = {"/JS", "/JavaScript", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
                    "/RichMediaExecute", "/ImportData", "/SubmitForm", "/GoToE", "/XFA"}
ACTIVE_PDF_TOKENS = [name.encode() for name in ACTIVE_PDF_NAMES]
MAX_PDF_OBJECTS = 200_000


def _active_pdf_content(data: bytes) -> str | None:
    """Why this PDF may not be kept (unreadable, encrypted, active content), or None."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if any(token in data for token in ACTIVE_PDF_TOKENS):
        return _("contient du code, un lancement de programme ou des fichiers joints")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return _("est protégé par un mot de passe")
        stack, seen, walked = [reader.trailer], set(), 0
        while stack:
            node = stack.pop()
            walked += 1
            if walked > MAX_PDF_OBJECTS:
                return _("est trop complexe pour être vérifié")
            if isinstance(node, IndirectObject):
                key = (node.idnum, node.generation)
                if key in seen:
                    continue
                seen.add(key)
                node = node.get_object()
            if isinstance(node, DictionaryObject):
                if set(node.keys()) & ACTIVE_PDF_NAMES or node.get("/S") in ACTIVE_PDF_NAMES:
                    return _("contient du code, un lancement de programme ou des fichiers joints")
                stack.extend(node.values())
            elif isinstance(node, ArrayObject):
                stack.extend(node)
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError):
        return _("est illisible")
    return None


def check_upload(uploaded, *, accept: tuple[str, ...] = ("application/pdf",), max_size: int = MAX_UPLOAD) -> str:
    """The one check of an uploaded document: its size, its type read from its content (never
    its name), and for a PDF the absence of active content. Returns the type; a ValidationError
    in French otherwise, and nothing is kept."""
    import filetype
    from django.core.exceptions import ValidationError

    name = uploaded.name
    if uploaded.size > max_size:
        raise ValidationError(_("« %(name)s » dépasse %(mb)s Mo.") % {"name": name, "mb": max_size // (1024 * 1024)})
    if uploaded.size == 0:
        raise ValidationError(_("« %(name)s » est vide.") % {"name": name})
    head = uploaded.read(8192)
    uploaded.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind is not None else None
    if mime not in accept:
        if set(accept) == {"application/pdf"}:
            raise ValidationError(_("« %(name)s » n'est pas un PDF.") % {"name": name})
        raise ValidationError(_("« %(name)s » n'est ni un PDF, ni une image JPEG ou PNG.") % {"name": name})
    if mime == "application/pdf":
        data = uploaded.read()
        uploaded.seek(0)
        problem = _active_pdf_content(data)
        if problem:
            raise ValidationError(_("Ce PDF %(problem)s : enregistrez-le à nouveau (imprimer en PDF) puis "
                                    "déposez-le.") % {"problem": problem})
    return mime


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
