"""The COS: fee rules, coverage through the COS, the convention switch, compliance, local
actions with their capacity under concurrent registrations, and the tenant boundaries."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from adhesions.computation import compute
from adhesions.models import ContributionScale, Coverage
from adhesions.selectors import coverage_on
from cnas.pdf import blank_pdf
from cos import services
from cos.coverage import sync_cos_coverage
from cos.models import CosMember, CosSettings, LocalAction, Registration
from tests import factories, world
from tests.workers import at_the_same_moment

D = datetime.date
TODAY = datetime.date.today()
PDF = blank_pdf()


@pytest.fixture
def cos_world(tenant_a):
    """The COS of tenant A serves its commune; the commune's agent joined in 2020."""
    world.serve(tenant_a.cos, tenant_a.employer)
    CosSettings.objects.update_or_create(cos=tenant_a.cos, defaults={  # staff, in « Réglages des COS »
        "fee_amount": Decimal("25"), "fee_deadline_month": 3, "fee_deadline_day": 31})
    member = services.add_member(actor=None, cos=tenant_a.cos, agent=tenant_a.agent, joined_on=D(2020, 1, 1))
    return tenant_a, member


def cos_coverage(agent, cos, day):
    return Coverage.objects.filter(agent=agent, adherent=cos, period__contains=day).exists()


@pytest.mark.django_db
def test_unpaid_fee_stops_coverage_at_the_cos_deadline(cos_world):
    tenant, member = cos_world
    cos = tenant.cos
    for year in range(2020, 2026):
        services.record_fee(actor=None, member=member, year=year, amount=Decimal("25"), paid_on=D(year, 1, 10),
                            means="payroll")
    today = D(2026, 6, 1)
    sync_cos_coverage(cos=cos, today=today)
    assert cos_coverage(tenant.agent, cos, D(2025, 12, 31))
    assert cos_coverage(tenant.agent, cos, D(2026, 3, 31))  # the grace until the deadline
    assert not cos_coverage(tenant.agent, cos, D(2026, 4, 1))
    services.record_fee(actor=None, member=member, year=2026, amount=Decimal("25"), paid_on=D(2026, 5, 2),
                        means="cheque")
    sync_cos_coverage(cos=cos, today=today)
    assert cos_coverage(tenant.agent, cos, D(2026, 4, 1)) and cos_coverage(tenant.agent, cos, D(2026, 12, 31))
    assert cos_coverage(tenant.agent, cos, D(2027, 3, 31)) and not cos_coverage(tenant.agent, cos, D(2027, 4, 1))
    with pytest.raises(services.ValidationError, match="déjà enregistrée"):
        services.record_fee(actor=None, member=member, year=2026, amount=Decimal("25"), paid_on=D(2026, 5, 2),
                            means="cheque")


@pytest.mark.django_db
def test_leaving_ends_the_coverage_and_the_cos_contribution_counts_members(cos_world):
    tenant, member = cos_world
    for year in range(2020, TODAY.year + 1):
        services.record_fee(actor=None, member=member, year=year, amount=Decimal("25"), paid_on=D(year, 1, 10),
                            means="payroll")
    assert coverage_on(agent=tenant.agent) is not None
    scale = ContributionScale.objects.create(year=TODAY.year, cos_per_agent=Decimal("120"), due_date=TODAY)
    (row,) = compute(scale, adherent_id=tenant.cos.pk)
    assert row.covered == 1 and row.amount == Decimal("120.00")
    services.end_membership(actor=None, member=member, left_on=TODAY - datetime.timedelta(days=1), reason="départ")
    assert not cos_coverage(tenant.agent, tenant.cos, TODAY)


@pytest.mark.django_db
def test_only_agents_of_served_employers_join(tenant_a, tenant_b, cos_world):
    with pytest.raises(services.ValidationError, match="ne travaille pas chez un employeur servi"):
        services.add_member(actor=None, cos=tenant_a.cos, agent=tenant_b.agent, joined_on=D(2020, 1, 1))
    with pytest.raises(services.ValidationError, match="déjà membre"):
        services.add_member(actor=None, cos=tenant_a.cos, agent=tenant_a.agent, joined_on=D(2020, 1, 1))


@pytest.mark.django_db
def test_the_convention_switches_coverage_and_contribution_to_the_employer(tenant_a):
    """An employer that does not adhere, a COS that does: only paid-up members are covered,
    until the convention covers every agent of the employer through the employer."""
    employer = factories.AdherentFactory(name="Commune sans adhésion")
    world.serve(tenant_a.cos, employer)
    members = [world.hire(employer, D(2015, 1, 1)).agent for _ in range(2)]
    others = [world.hire(employer, D(2015, 1, 1)).agent for _ in range(3)]
    for agent in members:
        member = services.add_member(actor=None, cos=tenant_a.cos, agent=agent, joined_on=D(2020, 1, 1))
        for year in range(2020, TODAY.year + 1):
            services.record_fee(actor=None, member=member, year=year, amount=Decimal("25"), paid_on=D(year, 1, 5),
                                means="payroll")
    rows = {r["employer"].pk: r for r in services.compliance(cos=tenant_a.cos)}
    assert (rows[employer.pk]["roster"], rows[employer.pk]["covered"], rows[employer.pk]["uncovered"]) == (5, 2, 3)

    start = TODAY.replace(day=1)
    services.sign_convention(actor=None, cos=tenant_a.cos, employer=employer, signed_on=start, start_date=start,
                             signed_pdf=SimpleUploadedFile("convention.pdf", PDF))
    for agent in members + others:
        coverage = coverage_on(agent=agent, day=TODAY)
        assert coverage.adherent == employer and coverage.source == "employment"
    assert not Coverage.objects.filter(adherent=tenant_a.cos, agent__in=members, period__contains=TODAY).exists()
    assert Coverage.objects.filter(adherent=tenant_a.cos, agent=members[0],
                                   period__contains=start - datetime.timedelta(days=1)).exists()
    assert services.compliance(cos=tenant_a.cos)[-1]["uncovered"] == 0
    scale = ContributionScale.objects.create(year=TODAY.year + 1, cos_per_agent=Decimal("120"),
                                             flat_per_agent=Decimal("200"), employer_mode="per_agent",
                                             due_date=TODAY)
    (employer_row,) = compute(scale, adherent_id=employer.pk)
    assert employer_row.working == 5 and employer_row.amount == Decimal("1000.00")
    assert compute(scale, adherent_id=tenant_a.cos.pk)[0].covered == 0


@pytest.mark.django_db
def test_the_home_page_says_when_the_obligation_is_not_met(client, tenant_a):
    employer = factories.AdherentFactory(name="Commune de Nulle-Part")
    world.serve(tenant_a.cos, employer)
    world.hire(employer, D(2018, 1, 1))
    client.force_login(tenant_a.cos_admin)
    page = client.get(reverse("cos:home", args=[tenant_a.cos.pk])).content.decode()
    assert "ne remplit pas son obligation d&#x27;action sociale" in page or \
        "ne remplit pas son obligation d'action sociale" in page


# --- Local actions --------------------------------------------------------------------------

def christmas(cos, capacity=5, **kwargs):
    """Published by the COS administrator (the service his page calls)."""
    values = {"title": "Arbre de Noël", "starts_at": timezone.now() + datetime.timedelta(days=20),
              "place": "Salle des fêtes", "capacity": capacity, "price_adult": Decimal("5"),
              "price_child": Decimal("0"), "registration_deadline": TODAY + datetime.timedelta(days=10),
              "is_published": True, **kwargs}
    return services.create_action(actor=None, cos=cos, **values)


def household_member(tenant, n: int, *, people: int):
    """Another agent of the commune, member of its COS, with ``people - 1`` children."""
    agent = world.hire(tenant.employer, D(2018, 1, 1), email=f"m{n}@exemple.test").agent
    member = services.add_member(actor=None, cos=tenant.cos, agent=agent, joined_on=D(2021, 1, 1))
    children = [world.child(agent, first_name=f"Enfant{n}-{k}").pk for k in range(people - 1)]
    return member, children


@pytest.mark.django_db
def test_a_household_larger_than_the_seats_left_chooses_fewer_people_or_waits_as_a_group(
        cos_world, django_capture_on_commit_callbacks):
    tenant, member = cos_world
    action = christmas(tenant.cos, capacity=5)
    first = services.register(actor=None, action=action, member=member, family_member_ids=[tenant.child.pk])
    assert first.status == "confirmed" and first.seats == 2 and first.amount == Decimal("5")

    four, children = household_member(tenant, 0, people=4)
    with pytest.raises(services.NotEnoughSeats) as told:
        services.register(actor=None, action=action, member=four, family_member_ids=children)
    assert (told.value.left, told.value.wanted) == (3, 4)
    assert "Il reste 3 places pour les 4 personnes" in told.value.messages[0]
    assert not Registration.objects.filter(member=four).exists()  # nothing done until the household chooses
    group = services.register(actor=None, action=action, member=four, family_member_ids=children, wait_as_group=True)
    assert group.status == "waiting" and group.seats == 4 and services.waiting_rank(group) == 1

    # behind the group, a single person fits in the 3 seats left: confirmed; a pair after him too
    single, _ = household_member(tenant, 1, people=1)
    assert services.register(actor=None, action=action, member=single, family_member_ids=[]).status == "confirmed"
    pair, pair_children = household_member(tenant, 2, people=2)
    assert services.register(actor=None, action=action, member=pair, family_member_ids=pair_children
                             ).status == "confirmed"
    late, _ = household_member(tenant, 3, people=1)
    behind = services.register(actor=None, action=action, member=late, family_member_ids=[])
    assert behind.status == "waiting" and services.waiting_rank(behind) == 2  # the action is full: he waits

    # the pair leaves: 2 seats free, the group of 4 does not fit yet and keeps its rank, the single behind is served
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.cancel_registration(
            actor=None, registration=Registration.objects.get(member=pair, action=action))
    assert [r.pk for r in promoted] == [behind.pk]
    group.refresh_from_db()
    assert group.status == "waiting" and services.waiting_rank(group) == 1
    assert mail.outbox[-1].to == ["m3@exemple.test"]

    # the first household leaves too: 3 seats, still not enough for 4; then the single: 4, the group comes in whole
    with django_capture_on_commit_callbacks(execute=True):
        assert services.cancel_registration(actor=None, registration=first) == []
        assert LocalAction.objects.with_seats().get(pk=action.pk).seats_left == 3
        promoted = services.cancel_registration(
            actor=None, registration=Registration.objects.get(member=single, action=action))
    assert [r.pk for r in promoted] == [group.pk]
    assert LocalAction.objects.with_seats().get(pk=action.pk).seats_left == 0
    assert mail.outbox[-1].to == ["m0@exemple.test"] and "4 personnes" in mail.outbox[-1].body


@pytest.mark.django_db
def test_a_group_larger_than_the_action_cannot_wait_for_ever(cos_world):
    tenant, _member = cos_world
    action = christmas(tenant.cos, capacity=3)
    four, children = household_member(tenant, 0, people=4)
    with pytest.raises(services.ValidationError, match="compte 3 places en tout"):
        services.register(actor=None, action=action, member=four, family_member_ids=children, wait_as_group=True)


@pytest.mark.django_db
def test_the_seat_offered_by_e_mail_is_given_up_with_its_link(cos_world, client, django_capture_on_commit_callbacks):
    import re

    tenant, member = cos_world
    action = christmas(tenant.cos, capacity=2)
    first = services.register(actor=None, action=action, member=member, family_member_ids=[tenant.child.pk])
    waiting, children = household_member(tenant, 0, people=2)
    second = services.register(actor=None, action=action, member=waiting, family_member_ids=children)
    third_member, _ = household_member(tenant, 1, people=1)
    third = services.register(actor=None, action=action, member=third_member, family_member_ids=[])
    assert (second.status, third.status) == ("waiting", "waiting")
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(actor=None, registration=first)
    offer = mail.outbox[-1]
    assert offer.to == ["m0@exemple.test"]
    link = re.search(r"https?://\S+/espace/actions/place/\S+/", offer.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)  # nobody logged in: the link is enough
    assert page.status_code == 200 and "Je libère ma place" in page.content.decode()
    assert Registration.objects.get(pk=second.pk).status == "confirmed"  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/" + path)
    assert "Votre place est libérée" in page.content.decode()
    assert Registration.objects.get(pk=second.pk).status == "cancelled"
    assert Registration.objects.get(pk=third.pk).status == "confirmed" and mail.outbox[-1].to == ["m1@exemple.test"]
    # twice: nothing more happens
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post("/" + path)
    assert "déjà annulée" in again.content.decode() and Registration.objects.get(pk=third.pk).status == "confirmed"
    # a forged or altered token: 404
    assert client.get("/espace/actions/place/abc/").status_code == 404
    assert client.get("/" + path[:-3] + "xx/").status_code == 404


@pytest.mark.django_db
def test_registration_rules(cos_world, tenant_b):
    tenant, member = cos_world
    closed = christmas(tenant.cos, registration_deadline=TODAY - datetime.timedelta(days=1))
    with pytest.raises(services.ValidationError, match="closes"):
        services.register(actor=None, action=closed, member=member, family_member_ids=[])
    action = christmas(tenant.cos)
    with pytest.raises(services.ValidationError, match="membres de votre foyer"):
        services.register(actor=None, action=action, member=member, family_member_ids=[tenant_b.child.pk])
    services.register(actor=None, action=action, member=member, family_member_ids=[])
    with pytest.raises(services.ValidationError, match="déjà inscrit"):
        services.register(actor=None, action=action, member=member, family_member_ids=[])


@pytest.mark.django_db(transaction=True)
def test_capacity_is_never_exceeded_by_concurrent_registrations(tenant_a):
    world.serve(tenant_a.cos, tenant_a.employer)
    members = []
    for _ in range(12):
        agent = world.hire(tenant_a.employer, D(2018, 1, 1)).agent
        members.append(services.add_member(actor=None, cos=tenant_a.cos, agent=agent, joined_on=D(2021, 1, 1)))
    action = christmas(tenant_a.cos, capacity=5)
    _, errors = at_the_same_moment(lambda member: services.register(
        actor=None, action=action, member=member, family_member_ids=[]), members)
    assert errors == []
    statuses = list(Registration.objects.filter(action=action).values_list("status", flat=True))
    assert statuses.count("confirmed") == 5 and statuses.count("waiting") == 7


@pytest.mark.django_db
def test_admin_exports_and_marks_attendance(client, cos_world):
    tenant, member = cos_world
    action = christmas(tenant.cos)
    registration = services.register(actor=None, action=action, member=member, family_member_ids=[tenant.child.pk])
    client.force_login(tenant.cos_admin)
    csv_text = client.get(reverse("cos:action_export", args=[tenant.cos.pk, action.pk, "csv"])).content.decode()
    assert "Enfanta" in csv_text and csv_text.count("\n") == 3
    pdf = client.get(reverse("cos:action_export", args=[tenant.cos.pk, action.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf"
    child = registration.participants.get(family_member__isnull=False)
    client.post(reverse("cos:action_attendance", args=[tenant.cos.pk, action.pk]), {"present": [child.pk]})
    assert list(registration.participants.filter(attended=True)) == [child]


@pytest.mark.django_db
def test_the_member_registers_from_his_space_and_downloads_card_and_receipt(client, cos_world):
    tenant, member = cos_world
    fee = services.record_fee(actor=None, member=member, year=TODAY.year, amount=Decimal("25"), paid_on=TODAY,
                              means="cheque")
    action = christmas(tenant.cos)
    client.force_login(tenant.agent_user)
    page = client.get(reverse("espace:actions")).content.decode()
    assert "Arbre de Noël" in page
    client.post(reverse("espace:action_register", args=[action.pk]), {"me": "on", "family": [tenant.child.pk]})
    registration = Registration.objects.get(member=member)
    assert registration.seats == 2 and registration.status == "confirmed"
    card = client.get(reverse("espace:cos_card", args=[member.pk]))
    receipt = client.get(reverse("espace:cos_receipt", args=[fee.pk]))
    assert card["Content-Type"] == receipt["Content-Type"] == "application/pdf"
    client.post(reverse("espace:action_cancel", args=[registration.pk]))
    assert Registration.objects.get(pk=registration.pk).status == "cancelled"


@pytest.mark.django_db
def test_another_cos_answers_404(client, cos_world, tenant_b):
    tenant, member = cos_world
    action = christmas(tenant.cos)
    client.force_login(tenant_b.cos_admin)
    for name, args in [("members", []), ("member", [member.pk]), ("actions", []), ("action", [action.pk]),
                       ("convention", [])]:
        assert client.get(reverse(f"cos:{name}", args=[tenant.cos.pk, *args])).status_code == 404
        if args:
            assert client.get(reverse(f"cos:{name}", args=[tenant_b.cos.pk, *args])).status_code == 404
    assert client.get(reverse("cos:action_export", args=[tenant_b.cos.pk, action.pk, "csv"])).status_code == 404
    client.force_login(tenant_b.agent_user)  # not a member of this COS
    assert client.post(reverse("espace:action_register", args=[action.pk]), {"me": "on"}).status_code == 404
    assert client.get(reverse("espace:cos_card", args=[member.pk])).status_code == 404
    registration = services.register(actor=None, action=action, member=member, family_member_ids=[])
    assert client.post(reverse("espace:action_cancel", args=[registration.pk])).status_code == 404
    assert CosMember.objects.filter(pk=member.pk, left_on__isnull=True).exists()


@pytest.mark.django_db
def test_the_seeded_coverage_is_what_the_rules_give(db):
    from django.core.management import call_command

    from adhesions.coverage import recompute_adherent
    from adhesions.models import Adherent, BasisPeriod

    call_command("seed_demo", verbosity=0)
    for cos in Adherent.objects.filter(kind="cos"):
        assert sync_cos_coverage(cos=cos) == 0
    # the employers' coverage, its extensions and the basis of every contribution, written in bulk by the
    # seed, are what the services derive
    basis = sorted(BasisPeriod.objects.values_list("agent_id", "adherent_id", "period", "source"))
    coverage = sorted(Coverage.objects.values_list("agent_id", "adherent_id", "period", "source"))
    assert Coverage.objects.filter(source="extension").exists()
    for adherent in Adherent.objects.all():
        assert recompute_adherent(adherent=adherent) == 0, adherent
    assert sorted(BasisPeriod.objects.values_list("agent_id", "adherent_id", "period", "source")) == basis
    assert sorted(Coverage.objects.values_list("agent_id", "adherent_id", "period", "source")) == coverage
    assert CosMember.objects.filter(agent__user__email="agent@demo.test").exists()


# --- Importing members ----------------------------------------------------------------------

def member_file(*lines, header="Matricule;Nom;Date de naissance;Cotisation;Date de paiement"):
    return SimpleUploadedFile("membres.csv", ("\n".join([header, *lines]) + "\n").encode("cp1252"))


@pytest.mark.django_db
def test_member_import_preview_then_all_or_nothing(client, tenant_a):
    world.serve(tenant_a.cos, tenant_a.employer)
    new = world.hire(tenant_a.employer, D(2018, 1, 1), number="N1", last_name="Éluard", birth_date=D(1980, 5, 4))
    agent_line = tenant_a.agent.employments.get()
    client.force_login(tenant_a.cos_admin)
    url = reverse("cos:member_import", args=[tenant_a.cos.pk])
    paid = TODAY.strftime("%d/%m/%Y")
    response = client.post(url, {"file": member_file(f"N1;ELUARD;04/05/1980;25,00;{paid}",
                                                     f"{agent_line.employee_number};Noma;15/06/1985;;",
                                                     "ZZ9;Inconnu;01/01/1970;;")})
    record_url = response.url
    page = client.get(record_url).content.decode()
    assert "Aucun agent en poste" in page and "Confirmer" not in page
    assert not CosMember.objects.exists()
    response = client.post(url, {"file": member_file(f"N1;ELUARD;04/05/1980;25,00;{paid}",
                                                     f"{agent_line.employee_number};Noma;15/06/1985;;")})
    detail = client.get(response.url).content.decode()
    assert "2 nouveau(x) membre(s)" in detail
    client.post(response.url)
    assert CosMember.objects.filter(cos=tenant_a.cos).count() == 2
    assert CosMember.objects.get(agent=new.agent).fees.get().amount == Decimal("25.00")
    assert cos_coverage(new.agent, tenant_a.cos, TODAY)
    # the same file again: nothing new
    response = client.post(url, {"file": member_file(f"N1;ELUARD;04/05/1980;25,00;{paid}")})
    assert "0 nouveau(x) membre(s), 0 cotisation(s) pour des membres existants, 1 inchangé(s)" in \
        client.get(response.url).content.decode()


@pytest.mark.django_db
def test_member_imports_of_another_cos_answer_404(client, tenant_a, tenant_b):
    from adhesions.models import RosterImport

    record = RosterImport.objects.create(adherent=tenant_b.cos, kind="cos_members", original_name="m.csv",
                                         sha256="0", size=1, file=SimpleUploadedFile("m.csv", b"x"))
    client.force_login(tenant_a.cos_admin)
    assert client.get(reverse("cos:member_import_detail", args=[tenant_a.cos.pk, record.pk])).status_code == 404
    assert client.get(reverse("cos:member_import_detail", args=[tenant_b.cos.pk, record.pk])).status_code == 404
    assert client.post(reverse("cos:member_import_detail", args=[tenant_a.cos.pk, record.pk])).status_code == 404


@pytest.mark.django_db
def test_the_cos_administrator_works_from_his_pages(client, tenant_a):
    world.serve(tenant_a.cos, tenant_a.employer)
    CosSettings.objects.update_or_create(cos=tenant_a.cos, defaults={"fee_amount": Decimal("30")})
    line = tenant_a.agent.employments.get()
    client.force_login(tenant_a.cos_admin)
    response = client.post(reverse("cos:members", args=[tenant_a.cos.pk]), {
        "employer": tenant_a.employer.pk, "employee_number": line.employee_number, "birth_date": "1985-06-15",
        "joined_on": TODAY.isoformat()})
    member = CosMember.objects.get(cos=tenant_a.cos)
    assert response.url == reverse("cos:member", args=[tenant_a.cos.pk, member.pk])
    wrong = client.post(reverse("cos:members", args=[tenant_a.cos.pk]), {
        "employer": tenant_a.employer.pk, "employee_number": line.employee_number, "birth_date": "1985-06-16",
        "joined_on": TODAY.isoformat()})
    assert "Aucun agent en poste" in wrong.content.decode()
    url = reverse("cos:member", args=[tenant_a.cos.pk, member.pk])
    assert client.get(url).context["fee_form"].initial["amount"] == Decimal("30")
    client.post(url, {"form": "fee", "year": TODAY.year, "amount": "30,00", "paid_on": TODAY.isoformat(),
                      "means": "cheque"})
    assert member.fees.get().amount == Decimal("30.00")
    response = client.post(reverse("cos:actions", args=[tenant_a.cos.pk]), {
        "title": "Sortie au zoo", "description": "", "starts_at": (TODAY + datetime.timedelta(days=30)).isoformat()
        + "T09:00", "place": "Zoo", "capacity": "50", "price_adult": "10", "price_child": "5",
        "registration_deadline": (TODAY + datetime.timedelta(days=20)).isoformat(), "is_published": "on"})
    assert LocalAction.objects.get(title="Sortie au zoo").is_published
    client.post(url, {"form": "end", "left_on": TODAY.isoformat(), "reason": "mutation"})
    member.refresh_from_db()
    assert member.left_on == TODAY
