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
