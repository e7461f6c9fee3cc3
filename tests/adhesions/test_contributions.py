"""The contribution arithmetic, with every world built as its users build it: adhesions opened,
suspended and ended by staff, agents hired and leaving through the roster, payroll declared,
COS members and fees recorded — then the campaign, the dry run, the regularisation and the
contributions page asked for their figure. The README's worked example comes out of here."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adhesions import services
from adhesions.computation import compute_one, totals_by_kind
from adhesions.models import ContributionCall, ContributionScale
from cnas.models import AuditEntry
from cnas.money import format_euros
from tests import world

pytestmark = pytest.mark.django_db
D = datetime.date
Y = 2025  # a past year: every date of it can be typed in the services
SINCE_2010 = D(2010, 1, 1)


def commune_of_the_readme(*, adhesion_start=SINCE_2010, payroll="1500000.00", name="Commune exemple"):
    """40 agents and 5 retired on 1 January, one agent arriving on 1 September and one on
    15 September, the payroll of the year before declared, the retired staff covered."""
    commune = world.adherent(name=name)
    for _ in range(40):
        world.hire(commune, D(2015, 1, 1))
    for _ in range(5):
        world.retire(world.hire(commune, D(1990, 1, 1)), D(2020, 6, 30))
    world.hire(commune, D(Y, 9, 1))
    world.hire(commune, D(Y, 9, 15))
    if payroll is not None:
        world.declare(commune, Y - 1, payroll)
    world.adhere(commune, adhesion_start, covers_retired=True)
    return commune


def twelfths(agents: Decimal) -> Decimal:
    """A headcount in twelfths of an agent, as the computation counts it (exact up to its division)."""
    return (agents * 12).quantize(Decimal("1"))


def campaign_call(scale, adherent, django_capture_on_commit_callbacks) -> ContributionCall:
    with django_capture_on_commit_callbacks(execute=True):
        services.run_campaign_now(actor=None, scale=scale, issued_on=D(Y, 1, 15))
    return ContributionCall.objects.get(adherent=adherent, year=scale.year, kind="initial")


# --- The README's worked example, through the campaign ---------------------------------------

def test_worked_example(django_capture_on_commit_callbacks):
    commune = commune_of_the_readme()
    scale = world.scale(Y)
    call = campaign_call(scale, commune, django_capture_on_commit_callbacks)
    assert call.working_agents == Decimal("40.5833")  # 40 + 4/12 + 3/12 = 487/12
    assert call.retired_agents == 5 and call.months == 12 and call.bound == ""
    assert call.details["agents_part"] == "12900.00"  # strings: no float near money  # 0.86 % of 1,500,000
    assert call.details["retired_part"] == "689.00"  # 5 x 137.80
    assert call.amount == Decimal("13589.00")
    assert call.payroll == Decimal("1500000.00") and call.payroll_year == Y - 1


def test_ceiling_with_a_corrected_declaration(django_capture_on_commit_callbacks):
    commune = commune_of_the_readme()
    services.declare_payroll(actor=None, adherent=commune, year=Y - 1, gross_payroll=Decimal("3000000"),
                             working_headcount=42, retired_headcount=5, is_correction=True, reason="Erreur de saisie")
    call = campaign_call(world.scale(Y), commune, django_capture_on_commit_callbacks)
    assert call.bound == "plafond"
    assert call.amount == Decimal("16922.33")  # 400 x 487/12 = 16,233.333… + 689 → one rounding


def test_no_declaration_yet_applies_the_floor(django_capture_on_commit_callbacks):
    commune = commune_of_the_readme(payroll=None)
    call = campaign_call(world.scale(Y), commune, django_capture_on_commit_callbacks)
    assert call.payroll is None and call.bound == "plancher" and call.amount == Decimal("6776.50")


def test_adhering_from_1_december_pays_one_twelfth(django_capture_on_commit_callbacks):
    """Pro-rating happens once: the roster built before the adhesion counts for the whole year."""
    commune = commune_of_the_readme(adhesion_start=D(Y, 12, 1))
    call = campaign_call(world.scale(Y), commune, django_capture_on_commit_callbacks)
    assert call.months == 1 and call.working_agents == Decimal("40.5833")
    assert call.amount == Decimal("1132.42")  # 13,589.00 / 12 = 1,132.4166…


def test_a_commune_joining_on_1_july_is_called_half_of_the_year():
    commune = commune_of_the_readme(adhesion_start=D(Y, 7, 1))
    row = compute_one(world.scale(Y), adherent_id=commune.pk)
    assert row.months == 6 and row.amount == Decimal("6794.50")  # 13,589.00 / 2


def test_per_agent_mode(django_capture_on_commit_callbacks):
    commune = commune_of_the_readme()
    call = campaign_call(world.scale(Y, employer_mode="per_agent"), commune, django_capture_on_commit_callbacks)
    assert call.amount == Decimal("9008.58")  # 205 x 487/12 = 8,319.5833… + 689


def test_cos_with_ten_members_and_one_arriving_on_1_july(django_capture_on_commit_callbacks):
    employer = world.member_structure(start=D(2010, 1, 1))
    cos = world.member_structure(cos=True, start=D(2010, 1, 1))
    world.serve(cos, employer)
    for _ in range(10):
        member = world.join_cos(cos, world.hire(employer, D(2012, 1, 1)).agent, D(2016, 1, 1))
        world.pay_fee(member, Y)
    late = world.join_cos(cos, world.hire(employer, D(2012, 1, 1)).agent, D(Y, 7, 1))
    world.pay_fee(late, Y, paid_on=D(Y, 7, 1))
    call = campaign_call(world.scale(Y), cos, django_capture_on_commit_callbacks)
    assert call.covered_agents == Decimal("10.5000") and call.amount == Decimal("1260.00")  # 120 x (10 + 6/12)


# --- Edges -----------------------------------------------------------------------------------

def test_adhesion_starting_mid_month_counts_whole_months_only():
    scale = world.scale(Y)
    commune = commune_of_the_readme(adhesion_start=D(Y, 11, 15))
    assert compute_one(scale, adherent_id=commune.pk).months == 1  # December only
    later = commune_of_the_readme(adhesion_start=D(Y, 12, 2), name="Commune tardive")
    assert compute_one(scale, adherent_id=later.pk) is None  # no first day of a month in Y
    assert compute_one(world.scale(Y + 1, due_date=D(Y + 1, 3, 31)), adherent_id=later.pk).months == 12


def test_adhesion_ended_during_the_year(tenant_a):
    services.end_adhesion(actor=None, adhesion=tenant_a.employer.adhesions.get(), end_date=D(Y, 6, 30),
                          reason="Délibération de retrait")
    assert compute_one(world.scale(Y), adherent_id=tenant_a.employer.pk).months == 6
    assert compute_one(world.scale(Y + 1, due_date=D(Y + 1, 3, 31)), adherent_id=tenant_a.employer.pk) is None


def test_an_agent_arriving_on_31_december_counts_nothing():
    commune = world.member_structure(start=D(2010, 1, 1))
    world.hire(commune, D(Y, 12, 31))
    assert compute_one(world.scale(Y), adherent_id=commune.pk).working == 0
    world.hire(commune, D(Y, 12, 1))
    assert twelfths(compute_one(index_scale(), adherent_id=commune.pk).working) == 1  # December


def test_leavers_count_their_months_and_not_after_1_january():
    commune = world.member_structure(start=D(2010, 1, 1))
    world.leave(world.hire(commune, D(2015, 1, 1)), D(Y - 1, 12, 31))  # gone before the year
    world.leave(world.hire(commune, D(2015, 1, 1)), D(Y, 1, 1))  # there on 1 January: January
    world.leave(world.hire(commune, D(2015, 1, 1)), D(Y, 4, 30))  # January to April
    row = compute_one(world.scale(Y), adherent_id=commune.pk)
    assert twelfths(row.working) == 5


def test_retired_are_not_charged_when_the_adhesion_does_not_cover_them():
    commune = world.adherent()
    world.retire(world.hire(commune, D(1990, 1, 1)), D(2020, 6, 30))
    world.hire(commune, D(2015, 1, 1))
    world.adhere(commune, D(2010, 1, 1), covers_retired=False)
    row = compute_one(world.scale(Y), adherent_id=commune.pk)
    assert row.retired_part == 0 and row.working == 1


def test_rounding_is_half_up_once_at_the_end():
    commune = world.member_structure(start=D(Y, 7, 1))
    world.hire(commune, D(2016, 1, 1))
    row = compute_one(world.scale(Y, employer_mode="per_agent", flat_per_agent=Decimal("100.01")),
                      adherent_id=commune.pk)
    assert row.amount == Decimal("50.01")  # 100.01 x 6/12 = 50.005 → 50.01 (half-even would give 50.00)


def test_a_pending_adhesion_does_not_pay():
    commune = world.adherent()
    world.hire(commune, D(2016, 1, 1))
    from adhesions.models import Adhesion

    Adhesion.objects.create(adherent=commune, start_date=D(2010, 1, 1))  # a joining application under review
    assert compute_one(world.scale(Y), adherent_id=commune.pk) is None
    services.activate_adhesion(actor=None, adhesion=commune.adhesions.get())
    assert compute_one(index_scale(), adherent_id=commune.pk).months == 12


# --- Rule 2: an agent counts at most once per adherent and year -------------------------------

def test_an_agent_who_leaves_and_comes_back_counts_the_months_of_both_stays():
    commune = world.member_structure(start=D(2010, 1, 1))
    first = world.hire(commune, D(2015, 1, 1))
    world.leave(first, D(Y, 4, 30))
    world.rehire(commune, first.agent, D(Y, 9, 1))
    row = compute_one(world.scale(Y), adherent_id=commune.pk)
    assert twelfths(row.working) == 8  # January to April, September to December


def test_a_cos_member_whose_membership_lapses_and_resumes():
    from cos import services as cos_services

    employer = world.member_structure(start=D(2010, 1, 1))
    cos = world.member_structure(cos=True, start=D(2010, 1, 1))
    world.serve(cos, employer)
    agent = world.hire(employer, D(2012, 1, 1)).agent
    member = world.join_cos(cos, agent, D(2020, 1, 1))
    world.pay_fee(member, Y)
    cos_services.end_membership(actor=None, member=member, left_on=D(Y, 3, 31), reason="Départ")
    world.join_cos(cos, agent, D(Y, 10, 1))  # his fee of the year is paid already
    row = compute_one(world.scale(Y), adherent_id=cos.pk)
    assert twelfths(row.covered) == 6  # January to March, October to December


def test_an_adhesion_interrupted_and_resumed_counts_its_months_once():
    commune = commune_of_the_readme()
    adhesion = commune.adhesions.get()
    services.suspend_adhesion(actor=None, adhesion=adhesion, from_date=D(Y, 5, 1), reason="Impayés")
    services.resume_adhesion(actor=None, adhesion=adhesion, on=D(Y, 9, 1))
    row = compute_one(world.scale(Y), adherent_id=commune.pk)
    assert row.months == 8 and twelfths(row.working) == 487
    assert row.amount == (Decimal("13589.00") * 8 / 12).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --- Rule 3: rights kept after leaving, not charged --------------------------------------------

def test_an_agent_who_leaves_stays_covered_until_31_december_and_is_not_charged_for_it():
    from adhesions.selectors import coverage_on, entitlement_on

    commune = world.member_structure(start=D(2010, 1, 1))
    employment = world.leave(world.hire(commune, D(2015, 1, 1)), D(Y, 3, 15))
    agent = employment.agent
    kept = coverage_on(agent=agent, day=D(Y, 12, 31))
    assert kept.adherent == commune and kept.source == "extension" and kept.start_date == D(Y, 3, 16)
    assert coverage_on(agent=agent, day=D(Y + 1, 1, 1)) is None
    assert entitlement_on(agent=agent, day=D(Y, 7, 1)).reason == (
        f"Vous restez couvert(e) jusqu'au 31/12/{Y} au titre de {commune.name}.")
    assert twelfths(compute_one(world.scale(Y), adherent_id=commune.pk).working) == 3  # January to March only


def test_no_rights_kept_after_a_death():
    from adhesions.selectors import coverage_on

    commune = world.member_structure(start=D(2010, 1, 1))
    employment = world.leave(world.hire(commune, D(2015, 1, 1)), D(Y, 3, 15), reason="death")
    assert coverage_on(agent=employment.agent, day=D(Y, 3, 16)) is None


def test_another_member_employer_covers_him_from_his_arrival():
    from adhesions.selectors import coverage_on

    first = world.member_structure(start=D(2010, 1, 1), name="Commune de départ")
    second = world.member_structure(start=D(2010, 1, 1), name="Commune d'arrivée")
    employment = world.leave(world.hire(first, D(2015, 1, 1)), D(Y, 3, 15), reason="transfer")
    agent = employment.agent
    world.rehire(second, agent, D(Y, 6, 1))
    rights = list(agent.coverages.order_by("period").values_list("adherent__name", "source", "period"))
    assert [(name, source) for name, source, _p in rights] == [
        ("Commune de départ", "employment"), ("Commune de départ", "extension"), ("Commune d'arrivée", "employment")]
    assert rights[1][2].upper == D(Y, 6, 1)  # the extension stops where the new employer covers him
    assert coverage_on(agent=agent, day=D(Y, 7, 1)).adherent == second
    # his new employer lets him go in October: the first one does not take him back
    world.leave(agent.employments.get(employer=second), D(Y, 10, 31), reason="resignation")
    assert coverage_on(agent=agent, day=D(Y, 12, 1)).adherent == second


def test_a_retiree_without_retired_coverage_keeps_his_rights_until_31_december():
    from adhesions.selectors import coverage_on

    commune = world.member_structure(start=D(2010, 1, 1), covers_retired=False)
    employment = world.retire(world.hire(commune, D(1990, 1, 1)), D(Y, 5, 31))
    assert coverage_on(agent=employment.agent, day=D(Y, 12, 31)).source == "extension"
    covering = world.member_structure(start=D(2010, 1, 1), covers_retired=True)
    other = world.retire(world.hire(covering, D(1990, 1, 1)), D(Y, 5, 31))
    assert coverage_on(agent=other.agent, day=D(Y + 3, 1, 1)).source == "retirement"


def test_the_agent_and_the_roster_see_the_rights_kept(tenant_a, client):
    today = datetime.date.today()
    services.end_employment(actor=tenant_a.correspondent, employment=tenant_a.agent.employments.get(),
                            end_date=today - datetime.timedelta(days=1), reason="resignation")
    client.force_login(tenant_a.agent_user)
    page = client.get("/espace/").content.decode()
    assert f"Vous restez couvert jusqu'au 31/12/{today.year} au titre de <strong>Commune a</strong>" in page
    client.force_login(tenant_a.correspondent)
    page = client.get(f"/collectivite/{tenant_a.employer.pk}/agents/?situation=left").content.decode()
    assert f"maintien des droits jusqu'au 31/12/{today.year}" in page


# --- Rule 4: ending or suspending an adhesion recomputes every agent's coverage ----------------

def test_ending_an_adhesion_in_the_admin_ends_its_agents_coverage(tenant_a, client, staff_user):
    from adhesions.selectors import coverage_on

    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    adhesion = tenant_a.employer.adhesions.get()
    page = client.get(f"/admin/adhesions/adhesion/{adhesion.pk}/change/").content.decode()
    assert "Résilier" in page and 'name="start_date"' not in page  # nothing to edit by hand
    url = f"/admin/adhesions/adhesion/{adhesion.pk}/actions/resilier/"
    response = client.post(url, {"end_date": "30/06/2025", "reason": ""})
    assert "Ce champ est obligatoire." in response.content.decode()
    response = client.post(url, {"end_date": "30/06/2025", "reason": "Délibération du 12 mai"})
    assert response.status_code == 302
    adhesion.refresh_from_db()
    assert adhesion.status == "ended" and adhesion.end_date == D(2025, 6, 30)
    assert coverage_on(agent=tenant_a.agent, day=D(2025, 6, 30)).adherent == tenant_a.employer
    assert coverage_on(agent=tenant_a.agent, day=D(2025, 7, 1)) is None
    assert compute_one(world.scale(Y + 1, due_date=D(Y + 1, 3, 31)), adherent_id=tenant_a.employer.pk) is None
    entry = AuditEntry.objects.filter(action="adhesion.end").get()
    assert entry.reason == "Délibération du 12 mai" and entry.actor == staff_user


def test_suspending_and_resuming_an_adhesion(tenant_a):
    from adhesions.selectors import coverage_on

    adhesion = tenant_a.employer.adhesions.get()
    services.suspend_adhesion(actor=None, adhesion=adhesion, from_date=D(Y, 3, 1), reason="Impayés")
    assert coverage_on(agent=tenant_a.agent, day=D(Y, 3, 1)) is None
    with pytest.raises(ValidationError):
        services.resume_adhesion(actor=None, adhesion=adhesion, on=D(Y, 2, 1))
    services.resume_adhesion(actor=None, adhesion=adhesion, on=D(Y, 5, 1))
    assert coverage_on(agent=tenant_a.agent, day=D(Y, 5, 1)).adherent == tenant_a.employer
    assert coverage_on(agent=tenant_a.agent, day=D(Y, 4, 30)) is None


def test_ending_a_cos_adhesion_ends_its_members_coverage(tenant_a):
    from adhesions.selectors import coverage_on

    world.serve(tenant_a.cos, tenant_a.employer)
    member = world.join_cos(tenant_a.cos, tenant_a.agent, D(2020, 1, 1))
    world.pay_fee(member, Y)
    assert tenant_a.agent.coverages.filter(adherent=tenant_a.cos, period__contains=D(Y, 6, 1)).exists()
    services.end_adhesion(actor=None, adhesion=tenant_a.cos.adhesions.get(), end_date=D(Y, 5, 31), reason="Dissolution")
    assert not tenant_a.agent.coverages.filter(adherent=tenant_a.cos, period__contains=D(Y, 6, 1)).exists()
    assert coverage_on(agent=tenant_a.agent, day=D(Y, 6, 1)).adherent == tenant_a.employer


def test_a_new_adhesion_may_not_overlap_an_existing_one(tenant_a, client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    response = client.post("/admin/adhesions/adhesion/add/", {"adherent": tenant_a.employer.pk,
                                                              "start_date": "01/01/2024"})
    assert "chevauche" in response.content.decode()
    assert tenant_a.employer.adhesions.count() == 1


# --- Rule 5: one figure for the campaign, the dry run, the regularisation and the page ---------

def test_the_same_figure_everywhere(tenant_a, client, django_capture_on_commit_callbacks, capsys):
    world.declare(tenant_a.employer, Y - 1, "10000")  # 86 € of payroll: the floor applies
    scale = world.scale(Y)
    call_command("run_campaign", str(Y), "--dry-run")
    dry_run = capsys.readouterr().out
    call = campaign_call(scale, tenant_a.employer, django_capture_on_commit_callbacks)
    communes = ContributionCall.objects.filter(year=Y, adherent__kind="collectivity")
    total = sum(c.amount for c in communes)
    assert communes.count() == 1 and totals_by_kind(scale)["collectivity"] == (1, total)
    collectivities = next(line for line in dry_run.splitlines() if "collectivité territoriale" in line)
    assert format_euros(total) in collectivities
    with pytest.raises(ValidationError, match="Rien à régulariser"):
        services.regularise(actor=None, adherent=tenant_a.employer, year=Y)
    world.hire(tenant_a.employer, D(Y, 7, 1))  # six months more of an agent at the floor: 150 x 6/12
    expected = compute_one(scale, adherent_id=tenant_a.employer.pk).amount
    difference = expected - call.amount
    assert difference == Decimal("75.00")
    client.force_login(tenant_a.correspondent)
    page = client.get(f"/collectivite/{tenant_a.employer.pk}/cotisations/").content.decode()
    assert f"régularisation de {format_euros(difference)}" in page
    with django_capture_on_commit_callbacks(execute=True):
        regularisation = services.regularise(actor=None, adherent=tenant_a.employer, year=Y)
    assert regularisation.amount == difference
    page = client.get(f"/collectivite/{tenant_a.employer.pk}/cotisations/").content.decode()
    assert "régularisation de" not in page  # called in full now


# --- Properties, through the services ----------------------------------------------------------

def months_of(stints, year=Y) -> int:
    """The oracle: months of ``year`` whose first day falls in one of the stints (start, end or None)."""
    firsts = [D(year, month, 1) for month in range(1, 13)]
    return sum(1 for first in firsts if any(start <= first and (end is None or first <= end) for start, end in stints))


stint_dates = st.dates(min_value=D(Y - 1, 6, 1), max_value=D(Y + 1, 2, 1))


@st.composite
def careers(draw):
    """One agent's stints on one roster: up to three, in order, each ending before the next."""
    days = sorted(draw(st.lists(stint_dates, min_size=2, max_size=6, unique=True)))
    stints = [(days[i], days[i + 1]) for i in range(0, len(days) - 1, 2)]
    if draw(st.booleans()):
        stints[-1] = (stints[-1][0], None)  # still there
    return stints


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(career=careers())
def test_an_agent_never_counts_more_than_his_months_nor_12_twelfths(db, career):
    commune = world.member_structure(start=D(2010, 1, 1))
    employment = world.hire(commune, career[0][0])
    agent = employment.agent
    for index, (start, end) in enumerate(career):
        if index:
            employment = world.rehire(commune, agent, start)
        if end is not None:
            world.leave(employment, end)
    row = compute_one(index_scale() or world.scale(Y), adherent_id=commune.pk)
    assert twelfths(row.working) == months_of(career) <= 12


def index_scale():
    return ContributionScale.objects.filter(year=Y).first()


adhesion_days = st.dates(min_value=D(Y, 1, 1), max_value=D(Y, 12, 31))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrivals=st.lists(st.dates(min_value=D(Y - 2, 1, 1), max_value=D(Y, 12, 31)), min_size=1, max_size=6),
       payroll=st.sampled_from([None, "0", "30000", "150000", "900000"]), change=st.sampled_from(["start", "end"]),
       day=adhesion_days)
def test_pro_rating_by_months_commutes_with_the_campaign_and_never_exceeds_the_full_year(
        db, arrivals, payroll, change, day):
    scale = index_scale() or world.scale(Y)
    commune = world.adherent()
    for arrival in arrivals:
        world.hire(commune, arrival)
    if payroll is not None:
        world.declare(commune, Y - 1, payroll)
    adhesion = world.adhere(commune, D(2010, 1, 1))
    full = compute_one(scale, adherent_id=commune.pk)
    if change == "end":
        services.end_adhesion(actor=None, adhesion=adhesion, end_date=day, reason="Retrait")
    else:  # it had left before the year, and joins again during it
        services.end_adhesion(actor=None, adhesion=adhesion, end_date=D(Y - 1, 12, 31), reason="Retrait")
        world.adhere(commune, day)
    part = compute_one(scale, adherent_id=commune.pk)
    months = months_of([(day, None)] if change == "start" else [(D(2010, 1, 1), day)])
    if months == 0:
        assert part is None
        return
    assert part.months == months
    assert part.amount <= full.amount
    whole_year = full.agents_part + full.retired_part
    assert part.amount == (whole_year * months / 12).quantize(Decimal("0.01"), ROUND_HALF_UP)
