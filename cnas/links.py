"""Absolute links to the portal, for e-mails: always from its address, ``settings.SITE_URL``, never
from a request (a worker has none; behind a proxy the request's host and scheme may be the proxy's).

``absolute_url("/espace/")`` and ``absolute_reverse("espace:demande", 12)`` are the one way every
e-mail of the portal builds a link (templates: ``{% absolute_url "espace:demande" demande.pk %}``
from the ``portal`` tags)."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse


def site_url() -> str:
    """The portal's address, without a trailing slash: ``https://portail.example.org``."""
    return settings.SITE_URL.rstrip("/")


def absolute_url(path: str = "/") -> str:
    """The absolute address of ``path`` ("/espace/demandes/12/", as reverse() gives it). An absolute
    URL (a link allauth built from the request) keeps its path, query and fragment on the portal's
    address."""
    parts = urlsplit(path)
    if parts.scheme or parts.netloc:
        path = parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment
                                                                            else "")
    if not path.startswith("/"):
        raise ValueError(f"absolute_url() takes a path starting with '/', not {path!r}")
    return site_url() + path


def absolute_reverse(viewname: str, *args, **kwargs) -> str:
    """``reverse()`` on the portal's address: ``absolute_reverse("espace:demande", demande.pk)``."""
    return absolute_url(reverse(viewname, args=args or None, kwargs=kwargs or None))


@dataclass(frozen=True)
class PortalSite:
    """What allauth's e-mail templates call ``current_site`` (name and domain), from SITE_URL rather
    than from the request's Host header."""

    name: str
    domain: str


def portal_site() -> PortalSite:
    return PortalSite(name=settings.PORTAL_NAME, domain=urlsplit(site_url()).netloc)
