"""The portal's own system checks (``manage.py check``; ``check --deploy`` for production)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks


@checks.register()
def check_site_url(app_configs=None, **kwargs):
    """SITE_URL, the address every link of an e-mail starts with, is an absolute http(s) address of the
    portal's root: a scheme, a host, no path, query or fragment."""
    value = getattr(settings, "SITE_URL", "")
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.hostname and parts.path in ("", "/") \
            and not parts.query and not parts.fragment and not parts.username:
        return []
    return [checks.Error(
        f"SITE_URL={value!r} is not the absolute address of the portal's root.",
        hint="Set SITE_URL to the scheme and host (and port) the agents use, e.g. https://portail.example.org "
             "(without a path); links in e-mails start with it.",
        id="cnas.E001",
    )]


@checks.register(checks.Tags.security, deploy=True)
def check_site_url_is_https(app_configs=None, **kwargs):
    """In production, links in e-mails (password reset, invitations…) carry secrets: https only."""
    if settings.DEBUG or urlsplit(getattr(settings, "SITE_URL", "")).scheme == "https":
        return []
    return [checks.Error(
        f"SITE_URL={settings.SITE_URL!r} is not https while DEBUG is off: the links of the e-mails (password "
        "reset, invitations, confirmations) would travel in clear.",
        hint="Set SITE_URL to the portal's public https address, e.g. SITE_URL=https://portail.example.org.",
        id="cnas.E002",
    )]


PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")


@checks.register(checks.Tags.security, deploy=True)
def check_private_storage(app_configs=None, **kwargs):
    """STORAGES["private"] keeps personal files private: a bucket when it is object storage, no public
    ACL, and no URL at all (the views stream every file after checking who asks)."""
    from django.core.files.storage import FileSystemStorage, storages

    config = settings.STORAGES.get("private")
    if not config:
        return [checks.Error("STORAGES has no 'private' entry: personal files would have nowhere to go.",
                             hint="Keep cnas.settings' STORAGES['private'] (PRIVATE_S3_BUCKET chooses object storage).",
                             id="cnas.E003")]
    try:
        storage = storages.create_storage(config)
    except Exception as exc:  # reported, whatever the backend raises
        return [checks.Error(f"STORAGES['private'] cannot be built: {exc}", id="cnas.E003")]
    errors = []
    if not isinstance(storage, FileSystemStorage):
        try:
            from storages.backends.s3 import S3Storage
        except ImportError:
            S3Storage = None
        if S3Storage is not None and isinstance(storage, S3Storage):
            errors += _s3_errors(storage)
    try:
        url = storage.url("check.pdf")
    except Exception:  # private storages refuse to give one: what is wanted
        url = None
    if url:
        errors.append(checks.Error(
            f"STORAGES['private'] ({config['BACKEND']}) gives URLs to private files ({url!r}): a link would reach "
            "a file without the portal checking who asks.",
            hint="Use cnas.private_files.PrivateStorage or cnas.private_s3.PrivateS3Storage, which never give one.",
            id="cnas.E006",
        ))
    return errors


def _s3_errors(storage) -> list:
    from cnas.private_s3 import PRIVATE_ACLS

    errors = []
    if not storage.bucket_name:
        errors.append(checks.Error(
            "The private storage is object storage (S3) without a bucket.",
            hint="Set PRIVATE_S3_BUCKET (and PRIVATE_S3_ENDPOINT_URL for a store other than AWS).",
            id="cnas.E004",
        ))
    parameters = storage.object_parameters or {}
    acls = {acl for acl in (storage.default_acl, parameters.get("ACL")) if acl}
    grants = [key for key, value in parameters.items()
              if key.startswith("Grant") and any(group in str(value) for group in PUBLIC_GROUPS)]
    public = sorted(acls - PRIVATE_ACLS) + grants
    if public:
        errors.append(checks.Error(
            f"The private storage writes objects that others may read ({', '.join(public)}).",
            hint="Leave PRIVATE_S3_ACL empty (the bucket's own private policy) or set it to "
                 + ", ".join(sorted(PRIVATE_ACLS)) + ".",
            id="cnas.E005",
        ))
    return errors
