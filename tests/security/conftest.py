"""Two tenants in two delegations, built through the services, with something in every space
(requests with documents, a paid batch, calls, a roster import, COS members and an action),
every staff role, a staff member of each delegation, one with no scope, and the markers —
names and an IBAN — that must never be shown to the wrong person."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import services as account_services
from accounts.models import StaffProfile
from adhesions import services as adhesion_services
from adhesions.models import Manager
from cos import services as cos_services
from prestations import services as prestation_services
from tests import factories, world
from tests.conftest import enroll_totp
from tests.prestations.conftest import granted, prestation, submitted

D = datetime.date
TODAY = datetime.date.today()


@dataclass
class Side:
    """One tenant in one delegation, and the words that identify its people."""

    label: str
    region: object = None
    employer: object = None
    cos: object = None
    agent_user: object = None
    correspondent: object = None
    cos_admin: object = None
    markers: dict = field(default_factory=dict)  # kind -> text


IBANS = {"A": "FR7612548029981234567890161", "B": "FR7610107001011234567890129"}
COLLEAGUE_IBAN = "FR7630004000031234567890143"


def build_side(label: str, code: str) -> Side:
    side = Side(label=label, region=factories.RegionFactory(code=code, name=f"Délégation {label}"))
    side.employer = world.member_structure(name=f"Commune de Zénobie-{label}", region=side.region,
                                           covers_retired=True)
    side.cos = world.member_structure(cos=True, name=f"Amicale Quiétude-{label}", region=side.region)
    world.serve(side.cos, side.employer)
    side.correspondent = enroll_totp(factories.UserFactory(email=f"rh-{label.lower()}@exemple.test"))
    adhesion_services.appoint_manager(actor=None, user=side.correspondent, adherent=side.employer,
                                      role=Manager.Role.CORRESPONDENT)
    side.cos_admin = enroll_totp(factories.UserFactory(email=f"cos-{label.lower()}@exemple.test"))
    adhesion_services.appoint_manager(actor=None, user=side.cos_admin, adherent=side.cos,
                                      role=Manager.Role.COS_ADMIN)
    side.agent_user = factories.UserFactory(email=f"agent-{label.lower()}@exemple.test")
    agent = world.hire(side.employer, D(2016, 1, 1), first_name="Aurélien", last_name=f"Quartz{label}").agent
    adhesion_services.attach_agent(user=side.agent_user, agent=agent)
    child = world.child(agent, first_name=f"Ysoline{label}", birth_date=TODAY - datetime.timedelta(days=40))
    account_services.update_bank_details(actor=None, agent=agent, iban=IBANS[label], bic="")
    colleague = world.hire(side.employer, D(2017, 1, 1), first_name="Bérénice", last_name=f"Collègue{label}").agent
    account_services.update_bank_details(actor=None, agent=colleague, iban=COLLEAGUE_IBAN, bic="")
    member = world.join_cos(side.cos, agent, D(2020, 1, 1))
    world.pay_fee(member, TODAY.year, paid_on=TODAY)
    cos_services.create_action(
        actor=None, cos=side.cos, title=f"Sortie Quiétude-{label}", place="Salle", capacity=30,
        starts_at=datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30),
        registration_deadline=TODAY + datetime.timedelta(days=20), is_published=True)
    world.declare(side.employer, TODAY.year - 1, "90000", working=2)
    adhesion_services.create_roster_import(
        actor=side.correspondent, adherent=side.employer, is_complete=False,
        uploaded=SimpleUploadedFile("effectif.csv", "Matricule;Nom;Prénom;Date de naissance;Date d'entrée\n"
                                    f"Z9;Quartz{label};Xavier;01/02/1980;01/01/2020\n".encode()))
    side.agent, side.child, side.colleague = agent, child, colleague
    side.markers = {"name": f"Quartz{label}", "child": f"Ysoline{label}", "colleague": f"Collègue{label}",
                    "iban": IBANS[label], "employer": f"Zénobie-{label}", "cos": f"Quiétude-{label}"}
    return side


def staff(email: str, role: str | None, *, region=None, national: bool = False):
    user = enroll_totp(factories.UserFactory(email=email, is_staff=True))
    StaffProfile.objects.create(user=user, region=region, is_national=national)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def security_world(db, django_capture_on_commit_callbacks):
    a, b = build_side("A", "SA"), build_side("B", "SB")
    birth = prestation(code="naissance", name="Aide à la naissance", event="birth", time_limit=12,
                       documents=["Acte de naissance"])
    relief = prestation(code="secours", name="Secours", amount_rule="share", fixed_amount=None,
                        share_percent=Decimal("50"), once_per_event=False, documents=["Facture"])
    with django_capture_on_commit_callbacks(execute=True):
        for side in (a, b):
            paid = granted(side.agent, birth, child=side.child)
            prestation_services.prepare_batch(actor=None, region_id=side.region.pk)
            prestation_services.confirm_batch_sent(actor=None, batch=paid.__class__.objects.get(pk=paid.pk).batch)
            submitted(side.agent, relief, expense=Decimal("300"))
        adhesion_services.run_campaign_now(actor=None, scale=world.scale(TODAY.year))
    people = {
        "agent_a": a.agent_user, "agent_b": b.agent_user, "correspondent_a": a.correspondent,
        "correspondent_b": b.correspondent, "cos_a": a.cos_admin, "cos_b": b.cos_admin,
        "instructeur_a": staff("instr-a@cnas.test", "Instructeur", region=a.region),
        "instructeur_b": staff("instr-b@cnas.test", "Instructeur", region=b.region),
        "gestionnaire_a": staff("gest-a@cnas.test", "Gestionnaire des adhérents", region=a.region),
        "social_a": staff("social-a@cnas.test", "Travailleur social", region=a.region),
        "comptable": staff("compta@cnas.test", "Comptable", national=True),
        "superviseur": staff("superv@cnas.test", "Superviseur", national=True),
        "administrateur": staff("admin@cnas.test", "Administrateur", national=True),
        "sans_portee": staff("nulle-part@cnas.test", "Superviseur"),  # a role, but no region and no flag
    }
    return a, b, people
