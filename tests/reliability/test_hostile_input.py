"""Hostile values in every form of every persona, the portal's and the admin's: no answer is a
5xx, and a form that answers with an error has written nothing."""

import html
import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import enroll_totp
from tests.factories import UserFactory
from tests.security.conftest import security_world  # noqa: F401 - the fixture, shared
from tests.security.test_crawler import crawl, start_of

pytestmark = pytest.mark.django_db

HOSTILE = ["NaN", "Infinity", "-inf", "1e309", "1e20", "²", "٣٤", "１２３", "31/12/9999", "9999-12-31", "0001-01-01",
           "00/00/0000", "-1", "0", "99999999999999999999", "", " ", "A" * 3000, "<script>alert(1)</script>",
           "' OR 1=1 --", "\x00", "🙂", "%s%n", "../../etc/passwd", "{{ 7|add:7 }}", "1,2,3", "=HYPERLINK(\"x\")"]
HOSTILE_FILES = [b"", b"<html><script>alert(1)</script></html>", b"%PDF-1.4 /JavaScript (app.alert(1))",
                 b"\x89PNG\r\n\x1a\n" + b"\x00" * 16 + b"<script>x</script>", b"\xff" * 2000]
SKIP_ACTIONS = ("/delete/", "/logout/", "/accounts/")  # deleting is what it does; allauth has its own checks
ERROR = re.compile(r'class="[^"]*(errorlist|errornote|message-error)|role="alert"')


class Forms(HTMLParser):
    """The POST forms of a page: action, and each field with its current value."""

    def __init__(self, path):
        super().__init__()
        self.path, self.forms, self.current, self.select = path, [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "get").lower() == "post":
            self.current = {"action": html.unescape(attrs.get("action") or self.path), "fields": {},
                            "files": set(), "multipart": "multipart" in attrs.get("enctype", "")}
            self.forms.append(self.current)
        elif self.current is not None and tag in ("input", "textarea", "select") and attrs.get("name"):
            name, kind = attrs["name"], attrs.get("type", "text")
            if kind == "file":
                self.current["files"].add(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.current["fields"][name] = attrs.get("value", "on")
            elif kind not in ("submit", "button", "image", "reset"):
                self.current["fields"][name] = attrs.get("value", "")
            if tag == "select":
                self.select = name
        elif tag == "option" and self.select and self.current is not None and "selected" in attrs:
            self.current["fields"][self.select] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def snapshot() -> tuple:
    """How many rows each table of the portal's apps holds (the outbox and the audit aside)."""
    models = [m for m in apps.get_models() if m._meta.app_label in ("accounts", "adhesions", "cos", "prestations")
              and not m._meta.model_name.endswith("history")]
    return tuple(m.objects.count() for m in models)


@pytest.fixture
def forms_of_every_persona(security_world):  # noqa: F811
    _a, _b, people = security_world
    people = {k: people[k] for k in ("agent_a", "correspondent_a", "cos_a")}
    people["superuser"] = enroll_totp(UserFactory(is_staff=True, is_superuser=True, email="root@cnas.test"))
    found, kinds = [], set()
    for name, user in people.items():
        client = Client()
        client.force_login(user)
        for path, content_type in crawl(client, start_of(name if name != "superuser" else "staff"), limit=160).items():
            if not content_type.startswith("text/html"):
                continue
            page = client.get(path)
            if page.status_code != 200:
                continue
            parser = Forms(path)
            parser.feed(page.content.decode())
            for form in parser.forms:
                kind = (re.sub(r"\d+", "N", form["action"]), tuple(sorted(form["fields"])),
                        tuple(sorted(form["files"])))
                if kind in kinds or any(s in form["action"] for s in SKIP_ACTIONS):
                    continue  # one form of each kind is enough
                kinds.add(kind)
                found.append((name, client, form))
    assert len(found) > 40, len(found)
    print(f"{len(found)} forms of {len(people)} personas")
    return found


@settings(max_examples=4, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_values_never_cause_a_5xx_nor_a_half_write(forms_of_every_persona, data):
    for name, client, form in forms_of_every_persona:
        fields = dict(form["fields"])
        names = [n for n in fields if n not in ("csrfmiddlewaretoken", "idempotency_key")]
        if data.draw(st.booleans(), label="all fields at once"):
            hostile = names
        else:
            hostile = [data.draw(st.sampled_from(names), label="one field")] if names else []
        for field in hostile:
            fields[field] = data.draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)), label=field)
        files = {n: SimpleUploadedFile("f.pdf", data.draw(st.sampled_from(HOSTILE_FILES), label=n))
                 for n in form["files"]}
        before = snapshot()
        response = client.post(form["action"], {**fields, **files})
        assert response.status_code < 500, (name, form["action"], fields)
        if response.status_code == 200 and ERROR.search(response.content.decode()):
            assert snapshot() == before, (name, form["action"], fields)
