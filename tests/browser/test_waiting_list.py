"""Playwright: the demo agent's household of four meets an action with three seats left. It is told
how many remain, chooses to wait as a group, is promoted whole when seats free up, and gives the seats
up again with the link of the e-mail that offered them."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Agent
from cos import services
from cos.models import CosMember, LocalAction, Registration
from tests.browser.test_benefit import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_household_of_four_waits_as_a_group_and_gives_its_seats_up_by_the_link(live_server, page, artifacts):
    call_command("seed_demo", verbosity=0)
    julien = Agent.objects.get(user__email="agent@demo.test")
    cos = CosMember.objects.get(agent=julien).cos
    today = timezone.localdate()
    # the COS administrator publishes a trip of five seats (the service his page calls) …
    trip = services.create_action(
        actor=None, cos=cos, title="Sortie au zoo de Beauval", place="Parking de la mairie", capacity=5,
        starts_at=timezone.now() + datetime.timedelta(days=30), price_adult=Decimal("12.00"),
        price_child=Decimal("6.00"), registration_deadline=today + datetime.timedelta(days=20), is_published=True,
        description="")
    # … and a colleague takes two of them for herself and her child
    colleague = (CosMember.objects.filter(cos=cos, left_on__isnull=True, agent__household__relation="child")
                 .exclude(agent=julien).select_related("agent").first())
    child = colleague.agent.household.filter(relation="child").first()
    taken = services.register(actor=None, action=trip, member=colleague, family_member_ids=[child.pk])
    assert taken.status == "confirmed"

    page.set_viewport_size({"width": 375, "height": 812})
    login(page, live_server.url, "agent@demo.test")
    page.get_by_role("link", name="Mon COS").click()
    card = page.locator("section", has=page.get_by_role("heading", name="Sortie au zoo de Beauval"))
    card.get_by_text("3 places restantes sur 5").wait_for()

    for person in ("Élodie", "Léa", "Hugo"):
        card.get_by_label(re.compile(person)).check()
    assert card.get_by_label("Moi").is_checked()
    card.get_by_role("button", name="M'inscrire").click()
    card = page.locator("section", has=page.get_by_role("heading", name="Sortie au zoo de Beauval"))
    card.get_by_role("alert").get_by_text("Il reste 3 places pour les 4 personnes que vous inscrivez").wait_for()
    assert not Registration.objects.filter(action=trip, member__agent=julien).exists()
    assert card.get_by_label(re.compile("Hugo")).is_checked()  # his choice is kept, to untick someone
    page.screenshot(path=str(artifacts / "cos-seats-left-375.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    card.get_by_role("button", name="Attendre ensemble sur la liste d'attente (4 personnes)").click()
    page.get_by_text("Vous êtes sur la liste d'attente pour 4 places, ensemble.").wait_for()
    card = page.locator("section", has=page.get_by_role("heading", name="Sortie au zoo de Beauval"))
    card.get_by_text("rang 1 sur la liste d'attente").wait_for()
    group = Registration.objects.get(action=trip, member__agent=julien)
    assert group.status == "waiting" and group.seats == 4 and group.amount == Decimal("36.00")

    # the colleague cancels: five seats free, the group comes in whole and is told by e-mail
    services.cancel_registration(actor=None, registration=taken)
    group.refresh_from_db()
    assert group.status == "confirmed"
    offer = next(m for m in reversed(mail.outbox) if m.to == ["agent@demo.test"])
    assert "4 personnes" in offer.body
    link = re.search(r"https?://\S+/espace/actions/place/\S+/", offer.body).group(0)
    page.reload()
    page.locator("section", has=page.get_by_role("heading", name="Sortie au zoo de Beauval")).get_by_text(
        "Confirmée", exact=False).first.wait_for()

    # he cannot come after all: the link of the e-mail, one button
    page.goto(live_server.url + "/" + link.split("://", 1)[1].split("/", 1)[1])
    page.get_by_role("heading", name="Libérer ma place").wait_for()
    page.get_by_role("button", name="Je libère ma place").click()
    page.get_by_text("Votre place est libérée.").wait_for()
    group.refresh_from_db()
    assert group.status == "cancelled"
    assert LocalAction.objects.with_seats().get(pk=trip.pk).seats_left == 5
