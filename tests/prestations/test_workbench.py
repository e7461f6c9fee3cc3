"""The staff workbench: the queue's tabs, the instruction page and its panel, notes and opinions that
only staff read, "next request", messages that say what happened — for instructors of a region."""

import datetime
import html

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from prestations import services
from prestations.models import Demande, DemandeEvent
from tests import world
from tests.prestations.conftest import TODAY, prestation, submitted
from tests.security.conftest import staff

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode()).replace("\u202f", " ").replace("\xa0", " ")


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def office(tenant_a, tenant_b):
    """Two requests waiting in region A (one old, one new), one in region B; an instructor and a
    social worker of region A, an instructor of region B."""
    aid = prestation(code="aide", name="Aide exceptionnelle", instruction_limit_days=10)
    birth = prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12,
                       child_max_age=17, documents=["Acte de naissance"])
    baby = world.child(tenant_a.agent, first_name="Léa", birth_date=TODAY - datetime.timedelta(days=20))
    old = submitted(tenant_a.agent, aid, at=timezone.now() - datetime.timedelta(days=15))
    new = submitted(tenant_a.agent, birth, child=baby)
    other = submitted(tenant_b.agent, aid)
    region_a, region_b = tenant_a.employer.region, tenant_b.employer.region
    return {
        "old": old, "new": new, "other": other,
        "instructor": staff("instr-a@cnas.test", "Instructeur", region=region_a),
        "social": staff("social-a@cnas.test", "Travailleur social", region=region_a),
        "instructor_b": staff("instr-b@cnas.test", "Instructeur", region=region_b),
    }


QUEUE = reverse("admin:prestations_demande_changelist")


def numbers(response) -> list[int]:
    return [row.pk for row in response.context["cl"].result_list]


def test_the_queue_shows_my_regions_open_requests_oldest_first_with_tabs(office):
    instructor = client_of(office["instructor"])
    page = instructor.get(QUEUE)
    assert page.status_code == 200
    assert numbers(page) == [office["old"].pk, office["new"].pk]  # region B's is not there
    body = text(page)
    for tab in ("Ouvertes", "À moi", "Non attribuées", "En attente de pièces", "En retard", "Avis demandés à moi"):
        assert tab in body
    assert "15 / 10" in body and "en retard" in body
    assert numbers(instructor.get(QUEUE + "?file=retard")) == [office["old"].pk]
    assert numbers(instructor.get(QUEUE + "?file=moi")) == []
    services.accept(actor=office["instructor"], demande=office["old"])
    assert numbers(instructor.get(QUEUE)) == [office["new"].pk]  # decided: out of the queue
    assert office["old"].pk in numbers(instructor.get(QUEUE + "?file=toutes"))

    response = instructor.post(QUEUE, {"action": "assign_to_me", "_selected_action": [office["new"].pk]},
                               follow=True)
    assert "1 demande vous est attribuée" in text(response)
    assert numbers(instructor.get(QUEUE + "?file=moi")) == [office["new"].pk]


def test_the_instruction_page_shows_the_whole_request(office, tenant_a):
    instructor = client_of(office["instructor"])
    demande = office["new"]
    page = text(instructor.get(reverse("admin:prestations_demande_change", args=[demande.pk])))
    assert f"Demande n° {demande.pk}" in page and "Aide à la naissance" in page
    assert "Éligible" in page and "230,00 €" in page
    assert "Acte de naissance" in page and "<iframe" in page  # the document, previewed
    assert "Léa" in page  # the household
    assert "Aide exceptionnelle" in page  # the agent's earlier request
    assert "Demande déposée" in page  # the timeline
    for action in ("Accepter", "Refuser", "Demander des pièces", "Écrire à l'agent", "Note interne",
                   "Demander un avis", "Demande suivante"):
        assert action in page
    # Another region's request: not found, whatever the action.
    other = office["other"].pk
    assert instructor.get(reverse("admin:prestations_demande_change", args=[other])).status_code == 404
    assert instructor.post(reverse("admin:prestations_demande_instruct", args=[other]),
                           {"action": "accept"}).status_code == 404


def test_each_action_says_what_happened_and_next_opens_the_oldest(office):
    instructor = client_of(office["instructor"])
    old, new = office["old"], office["new"]
    url = reverse("admin:prestations_demande_instruct", args=[old.pk])
    response = instructor.post(url, {"action": "accept", "amount": "150", "reason": ""}, follow=True)
    assert "doit être motivé" in text(response) and "230,00 €" in text(response)
    response = instructor.post(url, {"action": "accept", "amount": "150", "reason": "Plafond du foyer"}, follow=True)
    assert f"Demande n° {old.pk} acceptée : 150,00 €." in text(response)
    old.refresh_from_db()
    assert old.status == "accepted" and old.amount_granted == 150
    events = text(instructor.get(reverse("admin:prestations_demande_change", args=[old.pk])))
    assert "Demande acceptée : 150,00 €." in events  # amounts the French way in the timeline

    following = instructor.get(reverse("admin:prestations_demande_next") + f"?apres={old.pk}")
    assert following.url == reverse("admin:prestations_demande_change", args=[new.pk])
    url = reverse("admin:prestations_demande_instruct", args=[new.pk])
    response = instructor.post(url, {"action": "ask", "message": "L'acte est illisible."}, follow=True)
    assert f"Demande n° {new.pk} : pièces demandées à l'agent." in text(response)
    assert "Aucune autre demande" in text(instructor.get(reverse("admin:prestations_demande_next"), follow=True))
    response = instructor.post(url, {"action": "refuse", "reason": ""}, follow=True)
    assert "Un refus doit être motivé" in text(response)
    response = instructor.post(url, {"action": "refuse", "reason": "Hors délai"}, follow=True)
    assert f"Demande n° {new.pk} refusée" in text(response)


def test_notes_and_opinions_are_for_staff_only(office, tenant_a, django_capture_on_commit_callbacks):
    instructor, social = office["instructor"], office["social"]
    demande = office["old"]
    url = reverse("admin:prestations_demande_instruct", args=[demande.pk])
    client = client_of(instructor)
    client.post(url, {"action": "note", "note": "Situation connue du service social."})
    page = text(client.get(reverse("admin:prestations_demande_change", args=[demande.pk])))
    assert "social-a@cnas.test" in page and "instr-b@cnas.test" not in page  # who may be asked: region A
    response = client.post(url, {"action": "ask_opinion", "addressee": office["instructor_b"].pk,
                                 "question": "Votre avis ?"}, follow=True)
    assert "ne peut pas lire cette demande" in text(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "ask_opinion", "addressee": social.pk,
                                     "question": "Faut-il aller au-delà du plafond ?"}, follow=True)
    assert "avis demandé à social-a@cnas.test" in text(response)
    assert mail.outbox[-1].to == ["social-a@cnas.test"] and str(demande.pk) in mail.outbox[-1].subject

    colleague = client_of(social)
    assert demande.pk in numbers(colleague.get(QUEUE + "?file=avis"))
    asked = DemandeEvent.objects.get(kind="opinion_asked")
    assert client.post(url, {"action": "give_opinion", "asked": asked.pk, "opinion": "Moi"}).status_code == 302
    assert not DemandeEvent.objects.filter(kind="opinion").exists()  # asked of someone else
    response = colleague.post(url, {"action": "give_opinion", "asked": asked.pk, "opinion": "Oui, 300 €."},
                              follow=True)
    assert "votre avis est enregistré" in text(response)
    assert numbers(colleague.get(QUEUE + "?file=avis")) == []

    staff_page = text(client.get(reverse("admin:prestations_demande_change", args=[demande.pk])))
    for staff_only in ("Situation connue du service social.", "Faut-il aller au-delà du plafond ?", "Oui, 300 €."):
        assert staff_only in staff_page
    agent = client_of(tenant_a.agent_user)
    agent_page = text(agent.get(reverse("espace:demande", args=[demande.pk])))
    assert agent_page and "Situation connue" not in agent_page and "plafond" not in agent_page
    assert "Oui, 300" not in agent_page
    assert all("Situation connue" not in m.body for m in mail.outbox if m.to == [tenant_a.agent_user.email])


def test_time_waiting_on_the_agent_is_counted_apart(office, tenant_a):
    demande = office["new"]
    services.ask_documents(actor=office["instructor"], demande=demande, message="L'acte est illisible.")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=5)):
        demande = services.submit(actor=None, demande=Demande.objects.get(pk=demande.pk))
    assert demande.awaiting_agent_since is None
    assert datetime.timedelta(days=5) - datetime.timedelta(minutes=1) < demande.agent_wait
    assert demande.agent_wait < datetime.timedelta(days=5, minutes=1)


# --- The dashboard ------------------------------------------------------------------------------

def test_indicators_are_computed_by_the_worker_and_read_from_their_snapshot(office, tenant_a,
                                                                          django_assert_max_num_queries):
    from prestations import indicators, tasks
    from prestations.models import IndicatorSnapshot

    instructor = office["instructor"]
    # decided after 3 days, of which 2 waiting on the agent: 1 day of instruction
    start = timezone.now() - datetime.timedelta(days=3)
    with time_machine.travel(start, tick=False):
        demande = submitted(tenant_a.agent, prestation(code="velo", name="Aide au vélo"))
        services.ask_documents(actor=instructor, demande=demande, message="Le devis ?")
    with time_machine.travel(start + datetime.timedelta(days=2), tick=False):
        demande = services.submit(actor=None, demande=Demande.objects.get(pk=demande.pk))
    with time_machine.travel(start + datetime.timedelta(days=3), tick=False):
        services.accept(actor=instructor, demande=demande)
    assert tasks.refresh_indicators() == 1 + 2  # the nation and both regions
    region = IndicatorSnapshot.objects.get(region=tenant_a.employer.region).data
    assert region["open_total"] == 2  # the old and the new request of region A
    assert [b["count"] for b in region["open_by_age"]] == [1, 1, 0, 0]
    assert region["decided_week"] >= 1 and region["median_days"] == 1.0
    national = IndicatorSnapshot.objects.get(region=None).data
    assert national["open_total"] == 3 and national["failed_tasks"] == 0

    client = client_of(instructor)
    with django_assert_max_num_queries(20):
        page = text(client.get(reverse("admin:index")))
    assert f"Indicateurs de la délégation {tenant_a.employer.region}" in page
    assert "2 demandes ouvertes" in page.replace("<strong>", "").replace("</strong>", "")
    assert "<svg" in page and "<table" in page  # each chart has its table
    assert "Par délégation" not in page  # the regions' table is for national staff
    supervisor = client_of(staff("superv@cnas.test", "Superviseur", national=True))
    page = text(supervisor.get(reverse("admin:index")))
    assert "Indicateurs nationaux" in page and "Par délégation" in page
    assert indicators.compute(region_id=tenant_a.employer.region_id)["open_total"] == 2


def test_staff_ask_for_a_fresh_count(office, django_capture_on_commit_callbacks):
    from prestations.models import IndicatorSnapshot

    client = client_of(office["instructor"])
    assert "pas encore été calculés" in text(client.get(reverse("admin:index")))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:prestations_indicators_refresh"), follow=True)
    assert "recalculés" in text(response)
    assert list(IndicatorSnapshot.objects.values_list("region", flat=True)) == [office["instructor"]
                                                                                .staff_profile.region_id]
