"""The small things of issue 14: the icons and the web app manifest, sort menus in French, and a
title on every page that says where one is."""

import html
import json
import re
import struct
from html.parser import HTMLParser

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from tests import world
from tests.conftest import enroll_totp
from tests.factories import UserFactory
from tests.security.conftest import security_world  # noqa: F401 - the fixture, shared
from tests.security.test_crawler import crawl

pytestmark = pytest.mark.django_db

# Words that betray an untranslated label (the French UI never uses them).
ENGLISH = re.compile(r"\b(descending|ascending|ordering|sign in|sign up|sign out|log in|log out|password|"
                     r"account|email address|change|manage|reset|two-factor|authenticator|recovery codes|"
                     r"not found|server error|forbidden|too many|home|dashboard|settings|any date|today|"
                     r"past 7 days|this month|this year|yes|no|unknown|all)\b", re.IGNORECASE)
TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)


class Head(HTMLParser):
    """The <link> elements of a page, by rel."""

    def __init__(self, content: str):
        super().__init__()
        self.links: dict[str, list[dict]] = {}
        self.feed(content)

    def handle_starttag(self, tag, attrs):
        if tag == "link":
            attrs = dict(attrs)
            self.links.setdefault(attrs.get("rel", ""), []).append(attrs)


class Selects(HTMLParser):
    """The options of every <select>: name -> [(value, label)]."""

    def __init__(self, content: str):
        super().__init__(convert_charrefs=True)
        self.selects: dict[str, list[list[str]]] = {}
        self.current, self.option = None, None
        self.feed(content)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self.current = self.selects.setdefault(attrs.get("name", ""), [])
        elif tag == "option" and self.current is not None:
            self.option = [attrs.get("value", ""), ""]
            self.current.append(self.option)

    def handle_endtag(self, tag):
        if tag == "select":
            self.current = None
        if tag in ("option", "select"):
            self.option = None

    def handle_data(self, data):
        if self.option is not None:
            self.option[1] += data.strip()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def static_served(settings):
    """WhiteNoise serves the static files from the finders, as `runserver` would (no collectstatic)."""
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", content[16:24])


# --- Icons and manifest -------------------------------------------------------------------

def test_icons_and_manifest_are_linked_from_portal_and_admin_pages(client, static_served, staff_user, tenant_a):
    client.force_login(tenant_a.agent_user)
    pages = {"/": Client().get("/"), "/espace/": client.get("/espace/")}
    staff = Client()
    staff.force_login(staff_user)
    pages["/admin/"] = staff.get("/admin/")
    for path, response in pages.items():
        assert response.status_code == 200, path
        links = Head(response.content.decode()).links
        assert {link["type"] for link in links["icon"]} == {"image/svg+xml", "image/png"}, path  # PNG: fallback
        assert len(links["apple-touch-icon"]) == 1 and len(links["manifest"]) == 1, path
        assert '<meta name="theme-color" content="#1d3f8f">' in response.content.decode(), path
    links = Head(pages["/admin/"].content.decode()).links
    expected = {"icon": "image/", "apple-touch-icon": "image/png", "manifest": "application/manifest+json"}
    for rel, content_type in expected.items():
        for link in links[rel]:
            response = client.get(link["href"])
            assert response.status_code == 200, link
            assert response["Content-Type"].startswith(content_type), (link, response["Content-Type"])
    assert png_size(body(client.get(links["apple-touch-icon"][0]["href"]))) == (180, 180)
    png = next(link for link in links["icon"] if link["type"] == "image/png")
    assert png_size(body(client.get(png["href"]))) == (32, 32) and png["sizes"] == "32x32"


def test_the_manifest_is_french_and_its_icons_exist(client, static_served):
    href = Head(client.get("/").content.decode()).links["manifest"][0]["href"]
    response = client.get(href)
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(body(response))
    assert manifest["lang"] == "fr" and manifest["start_url"] == "/espace/"
    assert django_settings.PORTAL_NAME in manifest["name"] and manifest["short_name"] == django_settings.PORTAL_NAME
    assert manifest["theme_color"] == "#1d3f8f" and manifest["display"] == "standalone"
    sizes = set()
    for icon in manifest["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200, icon
        assert answer["Content-Type"] == icon["type"], icon
        if icon["type"] == "image/png":
            width, height = png_size(body(answer))
            assert icon["sizes"] == f"{width}x{height}", icon
            sizes.add(width)
    assert {192, 512} <= sizes


def test_favicon_ico_is_answered(client, static_served):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icon = client.get(response["Location"])
    assert icon.status_code == 200 and icon["Content-Type"] == "image/x-icon"
    assert body(icon)[:4] == b"\x00\x00\x01\x00"  # an ICO file


# --- Menus in French ----------------------------------------------------------------------

def test_every_sort_option_of_the_roster_is_french(client, tenant_a):
    world.hire(tenant_a.employer, world.JOINED_2015, number="Z9", last_name="Zola")
    client.force_login(tenant_a.correspondent)
    url = reverse("collectivite:roster", args=[tenant_a.employer.pk])
    selects = Selects(client.get(url).content.decode()).selects
    assert [label for _, label in selects["sort"]] == [
        "Nom (A → Z)", "Nom (Z → A)", "Matricule (croissant)", "Matricule (décroissant)",
        "Date d'entrée (la plus ancienne d'abord)", "Date d'entrée (la plus récente d'abord)"]
    for name, options in selects.items():
        for value, label in options:
            assert label and not ENGLISH.search(label), (name, value, label)
    by_name = [line.agent.last_name for line in client.get(url, {"sort": "-nom"}).context["page"]]
    assert by_name == sorted(by_name, reverse=True) and by_name[0] == "Zola"


def test_admin_list_filters_speak_french(client, tenant_a):
    superuser = enroll_totp(UserFactory(is_staff=True, is_superuser=True))
    client.force_login(superuser)
    leaks = []
    for model, model_admin in admin.site._registry.items():
        if not model_admin.list_filter:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = client.get(url)
        assert response.status_code == 200, url
        content = response.content.decode()
        start = content.find('id="changelist-filter"')
        if start < 0:  # no filter with two choices or more on this little world
            continue
        sidebar = html.unescape(re.sub(r"<[^>]+>", " ", content[start:content.find("</nav>", start)]))
        leaks += [(url, word) for word in ENGLISH.findall(sidebar)]
    assert leaks == []


# --- Titles -------------------------------------------------------------------------------

def title_of(content: str) -> str:
    found = TITLE.search(content)
    assert found, "no <title>"
    return " ".join(html.unescape(found.group(1)).split())


def check_title(title: str, where: str) -> None:
    name = django_settings.PORTAL_NAME
    assert title and title != name, (where, title)
    assert title.endswith(f" — {name}") and not title.startswith("—"), (where, title)
    page = title.removesuffix(f" — {name}")
    assert page.strip() and "—  —" not in title, (where, title)
    assert not ENGLISH.search(title), (where, title)


def test_every_page_title_says_where_one_is(security_world):  # noqa: F811
    a, _, people = security_world
    titles: dict[str, str] = {}
    for persona, start in (("agent_a", "/espace/"), ("correspondent_a", "/collectivite/"), ("cos_a", "/cos/")):
        client = Client()
        client.force_login(people[persona])
        start = client.get(start, follow=True).request["PATH_INFO"]  # /collectivite/ -> /collectivite/<pk>/
        for path, content_type in crawl(client, start).items():
            if not content_type.startswith("text/html"):
                continue
            response = client.get(path)
            if response.status_code != 200:
                continue
            titles[f"{persona} {path}"] = title = title_of(response.content.decode())
            check_title(title, path)
        # the account pages of allauth, the same for every persona
        for name in ("account_email", "account_change_password", "mfa_index"):
            response = client.get(reverse(name))
            assert response.status_code == 200, name
            title = title_of(response.content.decode())
            check_title(title, name)
            assert "Mon compte" in title, title
    assert len(titles) > 40, len(titles)
    # where one is: the structure's name in the collectivity and COS spaces, the space in the agent's
    assert titles[f"correspondent_a /collectivite/{a.employer.pk}/agents/"] == (
        f"Effectif — {a.employer.name} — {django_settings.PORTAL_NAME}")
    assert titles[f"cos_a /cos/{a.cos.pk}/membres/"] == f"Membres — {a.cos.name} — {django_settings.PORTAL_NAME}"
    assert titles[f"cos_a /cos/{a.cos.pk}/cotisations/"] == (
        f"Cotisations — {a.cos.name} — {django_settings.PORTAL_NAME}")
    assert titles["agent_a /espace/"] == f"Accueil — Mon espace — {django_settings.PORTAL_NAME}"
    anonymous = Client()
    for path in ("/", "/adherer/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        response = anonymous.get(path)
        assert response.status_code == 200, path
        check_title(title_of(response.content.decode()), path)
    missing = anonymous.get("/cette-page-n-existe-pas/")
    assert missing.status_code == 404
    assert title_of(missing.content.decode()) == f"Page introuvable — {django_settings.PORTAL_NAME}"


@pytest.mark.parametrize("template, title", [
    ("403.html", "Accès refusé"), ("404.html", "Page introuvable"), ("413.html", "Fichier trop volumineux"),
    ("429.html", "Trop de tentatives"), ("500.html", "Erreur du serveur"),
])
def test_error_pages_have_french_titles(template, title, rf: RequestFactory):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/")
    request.user = AnonymousUser()
    content = render_to_string(template, {"limit_mb": 10}, request=request if template != "500.html" else None)
    assert title_of(content) == f"{title} — {django_settings.PORTAL_NAME}"
