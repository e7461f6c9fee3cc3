"""The crawler: every persona walks every page it can reach from its own space (links followed,
three pages at most of each kind); then every page found is asked for by every persona and
anonymously. No answer is a 5xx, no 200 shows a name, a household or an IBAN its reader must not
see, and no file of one tenant or delegation is handed to someone of another."""

import html
import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from tests.security.conftest import COLLEAGUE_IBAN

pytestmark = pytest.mark.django_db

SKIP = ("/accounts/logout/", "/static/", "/admin/logout/", "/admin/jsi18n/", "/sante/")
HREF = re.compile(r'(?:href|action|src)="([^"#]+)"')
PER_KIND = 3
START = {"agent": "/espace/", "correspondent": "/collectivite/", "cos": "/cos/"}


def start_of(name: str) -> str:
    return START.get(name.split("_")[0], "/admin/")


def crawl(client: Client, start: str, limit: int = 300) -> dict[str, str]:
    """Pages reachable from ``start`` (path -> content type of their answer)."""
    kinds, queue, found = Counter(), deque([start]), {}
    while queue and len(found) < limit:
        path = queue.popleft()
        if path in found:
            continue
        response = client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        found[path] = response.get("Content-Type", "")
        if response.status_code != 200 or not found[path].startswith("text/html"):
            continue
        for href in HREF.findall(response.content.decode()):
            target = urlsplit(urljoin(path, html.unescape(href)))
            if target.netloc or not target.path.startswith("/") or target.path.startswith(SKIP):
                continue
            kind = re.sub(r"\d+", "N", target.path)
            if target.path not in found and kinds[kind] < PER_KIND:
                kinds[kind] += 1
                queue.append(target.path)
    return found


def forbidden_markers(name: str, a, b) -> set[str]:
    """What this persona must never read on a page."""
    everything = set(a.markers.values()) | set(b.markers.values()) | {COLLEAGUE_IBAN}
    ibans = {a.markers["iban"], b.markers["iban"], COLLEAGUE_IBAN}
    if name in ("anonymous", "sans_portee", "administrateur"):
        return everything
    if name in ("comptable", "superviseur"):  # every delegation; IBANs only in the SEPA files
        return ibans
    side, other = (a, b) if name.endswith("_a") else (b, a)
    mine = side.markers
    forbidden = set(other.markers.values()) | {COLLEAGUE_IBAN}
    if name.startswith("agent"):
        return forbidden | {mine["colleague"]}
    if name.startswith(("correspondent", "cos")):
        return forbidden | {mine["child"], mine["iban"]} | ({mine["colleague"]} if name.startswith("cos") else set())
    return forbidden | {mine["iban"]}  # staff of the delegation: IBANs are masked in the admin


def owners(collectors: set[str]) -> set[str]:
    """The sides whose people reached a page (national staff reach both and say nothing)."""
    return {name[-1] for name in collectors if name.endswith(("_a", "_b"))}


def test_no_persona_reads_what_is_not_his(security_world):
    a, b, people = security_world
    clients = {"anonymous": Client()}
    for name, user in people.items():
        clients[name] = Client()
        clients[name].force_login(user)
    collected: dict[str, set[str]] = {}
    for name, client in clients.items():
        if name == "anonymous":
            continue
        for path in crawl(client, start_of(name)):
            collected.setdefault(path, set()).add(name)
    assert len(collected) > 150, len(collected)  # the walk really went through the spaces and the admin

    leaks = []
    for path, collectors in sorted(collected.items()):
        side = owners(collectors)
        for name, client in clients.items():
            response = client.get(path)
            if response.status_code >= 500:
                leaks.append((name, path, response.status_code))
                continue
            if response.status_code != 200:
                continue
            content_type = response.get("Content-Type", "")
            if content_type.startswith(("text/html", "application/json", "text/csv")):
                text = html.unescape(b"".join(response).decode(errors="replace") if response.streaming
                                     else response.content.decode(errors="replace"))
                seen = sorted(m for m in forbidden_markers(name, a, b) if m in text)
                if seen:
                    leaks.append((name, path, seen))
            elif len(side) == 1:  # a file of one side: never to the other side, nor to whoever sees nothing
                (owner,) = side
                if not (name.endswith(f"_{owner}") or name in ("comptable", "superviseur")):
                    leaks.append((name, path, content_type))
    assert leaks == [], leaks[:20]
