"""Demo worlds: adherents, agents, households, rosters and coverage, built in bulk.

Adherents are few (at most tens of thousands): built in Python with valid SIRETs.
Agents and everything that hangs on them are built by a handful of set-based SQL
statements (INSERT … SELECT over generate_series), so that a million agents take
minutes, not hours. ``setseed`` makes every world the same for the same sizes.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from stdnum import luhn

from adhesions.models import Adherent, AdherentCategory, AdherentKind, Adhesion, Region
from cnas import bulk
from cnas.bulk import indexes_built_after

REGIONS = [("ARA", "Auvergne-Rhône-Alpes"), ("BRE", "Bretagne"), ("OCC", "Occitanie")]
# Each delegation's desk (demo addresses, in the towns where the body has its delegations).
REGION_DESKS = {
    "ARA": {"address": "12 rue de la République\nCS 30012", "postcode": "69002", "city": "Lyon",
            "phone": "04 72 00 12 34", "email": "ara@demo.test"},
    "BRE": {"address": "5 quai de l'Odet", "postcode": "29000", "city": "Quimper",
            "phone": "02 98 00 45 67", "email": "bretagne@demo.test"},
    "OCC": {"address": "40 allées Jean-Jaurès", "postcode": "31000", "city": "Toulouse",
            "phone": "05 61 00 78 90", "email": "occitanie@demo.test"},
}

LAST_NAMES = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin", "Boyer", "Garnier",
    "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval",
    "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard",
    "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud", "Martinez",
    "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron", "Picard",
    "Le Gall", "Le Goff", "Kerjean", "Tanguy", "Salaün", "Fabre", "Bousquet", "Carrère",
]
FEMALE_NAMES = [
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine", "Christine", "Valérie",
    "Sophie", "Céline", "Stéphanie", "Véronique", "Laurence", "Anne", "Julie", "Aurélie", "Émilie",
    "Camille", "Laura", "Sarah", "Manon", "Chloé", "Léa", "Inès", "Claire", "Hélène", "Élodie",
    "Amandine", "Pauline", "Audrey", "Martine", "Brigitte", "Monique", "Agnès", "Karine", "Virginie",
]
MALE_NAMES = [
    "Jean", "Philippe", "Michel", "Alain", "Patrick", "Nicolas", "Christophe", "Pierre", "Éric",
    "Laurent", "Frédéric", "Stéphane", "David", "Olivier", "Sébastien", "Julien", "Thomas",
    "Mathieu", "Romain", "Maxime", "Antoine", "Lucas", "Hugo", "Louis", "Gabriel", "Paul", "Marc",
    "Bruno", "Thierry", "Didier", "Pascal", "Franck", "Yannick", "Cédric", "Jérôme", "Guillaume",
]
CHILD_NAMES = [
    "Léa", "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Rose", "Anna", "Mila", "Ambre",
    "Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Jules", "Adam", "Maël", "Lucas", "Hugo",
    "Noah", "Sacha", "Tom", "Nathan", "Zoé", "Inès", "Manon", "Camille", "Théo",
]
STREETS = [
    "rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "place de la Mairie",
    "rue des Écoles", "chemin des Vignes", "allée des Tilleuls", "rue du Moulin", "impasse des Lilas",
    "boulevard Gambetta", "rue Pasteur", "route de la Gare",
]
TOWN_PARTS_A = ["Saint-", "Sainte-", "Villeneuve-", "Mont", "Beau", "Font", "Roche", "Ker", "Plou", "Châtel"]
TOWN_PARTS_B = ["martin", "vallon", "lac", "bois", "champ", "fort", "mer", "pré", "val", "moulin", "rive"]
TOWN_PARTS_C = ["", "-sur-Loire", "-les-Bains", "-en-Vercors", "-la-Forêt", "-sur-Mer", "-le-Château", "-d'Arvor"]
REGION_POSTCODES = {"ARA": ["01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74"],
                    "BRE": ["22", "29", "35", "56"],
                    "OCC": ["09", "11", "12", "30", "31", "32", "34", "46", "48", "65", "66", "81", "82"]}

# SIREN prefixes of public bodies: communes 21, départements 22, régions 23, EPCI 24 / 20,
# CCAS 26, syndicats 25; associations use 3, 4, 5 and 7.
SIREN_PREFIX = {
    AdherentCategory.COMMUNE: "21", AdherentCategory.DEPARTEMENT: "22", AdherentCategory.REGION: "23",
    AdherentCategory.EPCI: "24", AdherentCategory.SYNDICAT: "25", AdherentCategory.CCAS: "26",
    AdherentCategory.OTHER_PUBLIC: "20", AdherentCategory.ASSOCIATION: "78",
}


def make_siret(category: str, number: int) -> str:
    """A SIRET that passes the checksums: SIREN (Luhn) then NIC (Luhn on all 14 digits)."""
    body = f"{SIREN_PREFIX[category]}{number % 10**6:06d}"
    siren = body + luhn.calc_check_digit(body)
    nic = f"{(number // 10**6) % 10**4:04d}" if number >= 10**6 else "0001"
    return siren + nic + luhn.calc_check_digit(siren + nic)


@dataclass
class AdherentSpec:
    name: str
    kind: str
    category: str
    region: str
    city: str
    postcode: str
    adhesion_start: datetime.date | None = datetime.date(2012, 1, 1)
    covers_retired: bool = False
    share: float = 1.0  # relative share of the generated agents (employers only)
    cos_serves: list[str] = field(default_factory=list)  # employers whose members a COS covers
    siret: str = ""


DEMO_ADHERENTS = [
    AdherentSpec("Ville de Saint-Aubin-sur-Loire", AdherentKind.COLLECTIVITY, AdherentCategory.COMMUNE,
                 "ARA", "Saint-Aubin-sur-Loire", "42130", datetime.date(2009, 1, 1), True, 3.0),
    AdherentSpec("CCAS de Saint-Aubin-sur-Loire", AdherentKind.PUBLIC_BODY, AdherentCategory.CCAS,
                 "ARA", "Saint-Aubin-sur-Loire", "42130", datetime.date(2014, 1, 1), False, 0.6),
    AdherentSpec("Communauté de communes du Val de Brenne", AdherentKind.COLLECTIVITY, AdherentCategory.EPCI,
                 "ARA", "Brenne-le-Château", "42600", datetime.date(2017, 1, 1), True, 1.2),
    AdherentSpec("Département du Val-d'Argent", AdherentKind.COLLECTIVITY, AdherentCategory.DEPARTEMENT,
                 "OCC", "Montclar-de-Quercy", "82230", datetime.date(2005, 1, 1), True, 4.0),
    AdherentSpec("Commune de Montclar-de-Quercy", AdherentKind.COLLECTIVITY, AdherentCategory.COMMUNE,
                 "OCC", "Montclar-de-Quercy", "82230", datetime.date(2019, 1, 1), False, 1.0),
    AdherentSpec("Syndicat intercommunal des eaux du Lévezou", AdherentKind.PUBLIC_BODY,
                 AdherentCategory.SYNDICAT, "OCC", "Salles-Curan", "12410", datetime.date(2021, 4, 1), False, 0.4),
    AdherentSpec("Commune de Kerlouan-Plage", AdherentKind.COLLECTIVITY, AdherentCategory.COMMUNE,
                 "BRE", "Kerlouan-Plage", "29890", datetime.date(2016, 1, 1), True, 1.0),
    AdherentSpec("Commune de Lanvéoc-les-Landes", AdherentKind.COLLECTIVITY, AdherentCategory.COMMUNE,
                 "BRE", "Lanvéoc-les-Landes", "29160", None, False, 1.0),
    AdherentSpec("COS de Saint-Aubin-sur-Loire", AdherentKind.COS, AdherentCategory.ASSOCIATION,
                 "ARA", "Saint-Aubin-sur-Loire", "42130", datetime.date(2015, 1, 1), False, 0,
                 cos_serves=["Ville de Saint-Aubin-sur-Loire", "CCAS de Saint-Aubin-sur-Loire"]),
    AdherentSpec("Amicale du personnel de Lanvéoc-les-Landes", AdherentKind.COS, AdherentCategory.ASSOCIATION,
                 "BRE", "Lanvéoc-les-Landes", "29160", datetime.date(2018, 1, 1), False, 0,
                 cos_serves=["Commune de Lanvéoc-les-Landes"]),
]


def ensure_regions() -> dict[str, Region]:
    regions = {}
    for code, name in REGIONS:
        regions[code], _ = Region.objects.get_or_create(code=code, defaults={"name": name, **REGION_DESKS[code]})
    return regions


def generated_adherent_specs(count: int, *, offset: int, rng: random.Random) -> list[AdherentSpec]:
    """``count`` believable adherents: mostly communes, some EPCI, CCAS, syndicates and COS."""
    categories = (
        [(AdherentKind.COLLECTIVITY, AdherentCategory.COMMUNE)] * 70
        + [(AdherentKind.COLLECTIVITY, AdherentCategory.EPCI)] * 8
        + [(AdherentKind.PUBLIC_BODY, AdherentCategory.CCAS)] * 9
        + [(AdherentKind.PUBLIC_BODY, AdherentCategory.SYNDICAT)] * 4
        + [(AdherentKind.COS, AdherentCategory.ASSOCIATION)] * 9
    )
    labels = {
        AdherentCategory.COMMUNE: "Commune de {}",
        AdherentCategory.EPCI: "Communauté de communes de {}",
        AdherentCategory.CCAS: "CCAS de {}",
        AdherentCategory.SYNDICAT: "Syndicat intercommunal de {}",
        AdherentCategory.ASSOCIATION: "Amicale du personnel de {}",
    }
    specs, employers = [], []
    for index in range(count):
        kind, category = rng.choice(categories)
        town = rng.choice(TOWN_PARTS_A) + rng.choice(TOWN_PARTS_B) + rng.choice(TOWN_PARTS_C)
        town = town[0].upper() + town[1:]
        region = rng.choice(REGIONS)[0]
        postcode = rng.choice(REGION_POSTCODES[region]) + f"{rng.randrange(100, 999)}"
        spec = AdherentSpec(
            name=f"{labels[category].format(town)} ({index + offset})", kind=kind, category=category,
            region=region, city=town, postcode=postcode,
            adhesion_start=datetime.date(rng.randrange(2000, 2026), rng.choice([1, 1, 1, 4, 7]), 1),
            covers_retired=rng.random() < 0.5, share=rng.paretovariate(1.2) if kind != AdherentKind.COS else 0,
            siret=make_siret(category, 10**5 + offset + index),
        )
        if kind == AdherentKind.COS and employers:
            spec.cos_serves = [rng.choice(employers).name]
        elif kind != AdherentKind.COS:
            employers.append(spec)
        specs.append(spec)
    return specs


def create_adherents(specs: list[AdherentSpec], regions: dict[str, Region]) -> list[Adherent]:
    adherents = Adherent.objects.bulk_create([
        Adherent(
            name=spec.name, kind=spec.kind, category=spec.category, siret=spec.siret,
            region=regions[spec.region], address=f"{1 + index % 40} {STREETS[index % len(STREETS)]}",
            postcode=spec.postcode, city=spec.city,
            email=f"contact{index}@{spec.city.lower().replace(' ', '-').replace(chr(39), '')}.example",
        )
        for index, spec in enumerate(specs)
    ], batch_size=2000)
    Adhesion.objects.bulk_create([
        Adhesion(adherent=adherent, start_date=spec.adhesion_start, status=Adhesion.Status.ACTIVE,
                 covers_retired=spec.covers_retired)
        for adherent, spec in zip(adherents, specs, strict=True) if spec.adhesion_start
    ], batch_size=2000)
    return adherents


AGENT_TABLES = ("accounts_agent", "adhesions_employment", "adhesions_coverage", "adhesions_basisperiod",
                "accounts_familymember")  # what populate_agents writes


def populate_agents(*, adherents: list[Adherent], specs: list[AdherentSpec], agents: int,
                    seed: float = 0.42, today: datetime.date | None = None) -> tuple[int, int]:
    """Create ``agents`` agents spread over the employers among ``adherents``, with
    their households, employments and coverage; return the range of their ids."""
    today = today or datetime.date.today()
    employers = [(a, s) for a, s in zip(adherents, specs, strict=True) if a.kind != AdherentKind.COS]
    total_share = sum(s.share for _, s in employers) or 1.0
    # Lower bounds of the cumulative shares: an agent draws r in [0, 1) and goes to the
    # employer whose slice holds it (width_bucket does the binary search in SQL).
    bounds, acc = [], 0.0
    for _, spec in employers:
        bounds.append(acc)
        acc += spec.share / total_share
    # a large world: its rows first, the indexes after (cnas.bulk); a few hundred agents: as they come
    loading = indexes_built_after(*AGENT_TABLES) if agents >= 50_000 else transaction.atomic()
    with loading, connection.cursor() as cursor:
        cursor.execute("LOCK TABLE accounts_agent IN EXCLUSIVE MODE")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_agent")
        first = cursor.fetchone()[0] + 1
        last = first + agents - 1
        params = {
            "first": first, "last": last, "today": today, "seed": seed,
            "last_names": LAST_NAMES, "female": FEMALE_NAMES, "male": MALE_NAMES,
            "children": CHILD_NAMES, "streets": STREETS,
            "employer_ids": [a.pk for a, _ in employers], "bounds": bounds,
        }
        for statement in _POPULATE_SQL:
            bulk.execute(cursor, statement, params)
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('accounts_agent', 'id'), GREATEST(%s, 1))", [last]
        )
    return first, last


_POPULATE_SQL = [
    "SELECT setseed(%(seed)s)",
    # Agents born 1958 to 2003; most of those born before 1964 are retired.
    """
    INSERT INTO accounts_agent (id, user_id, last_name, birth_name, first_name, sex, birth_date, status,
                                email, phone, address, postcode, city, iban, bic, created_at, updated_at)
    SELECT g.id, NULL, g.last_name, '', CASE WHEN g.sex = 'F' THEN g.female ELSE g.male END, g.sex,
           g.birth_date,
           CASE WHEN g.birth_date < DATE '1964-01-01' AND g.r < 0.85 THEN 'retired' ELSE 'working' END,
           CASE WHEN g.r < 0.8 THEN lower(translate(
               CASE WHEN g.sex = 'F' THEN g.female ELSE g.male END || '.' || g.last_name || g.id,
               'ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜàâäçéèêëîïôöùûü '' ', 'AAACEEEEIIOOUUUaaaceeeeiioouuu')) || '@agents.example'
                ELSE '' END,
           '',
           (1 + (g.id %% 90))::text || ' '
               || (%(streets)s::text[])[1 + (g.id %% array_length(%(streets)s::text[], 1))],
           '', '', '', '', now(), now()
    FROM (
        SELECT s.id,
               (%(last_names)s::text[])[1 + floor(random() * array_length(%(last_names)s::text[], 1))::int]
                   AS last_name,
               (%(female)s::text[])[1 + floor(random() * array_length(%(female)s::text[], 1))::int] AS female,
               (%(male)s::text[])[1 + floor(random() * array_length(%(male)s::text[], 1))::int] AS male,
               CASE WHEN random() < 0.6 THEN 'F' ELSE 'M' END AS sex,
               DATE '1958-01-01' + floor(random() * 16425)::int AS birth_date,
               random() AS r
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS s(id)
    ) AS g
    """,
    # Employments: one per agent, with an employer drawn by share; retired agents left on retirement.
    """
    INSERT INTO adhesions_employment (agent_id, employer_id, employee_number, start_date, end_date, end_reason)
    SELECT a.id,
           (%(employer_ids)s::bigint[])[width_bucket(a.r, %(bounds)s::float8[])],
           'M' || lpad(a.id::text, 8, '0'),
           LEAST(%(today)s::date - 30, a.birth_date + 7300 + floor(a.r2 * 7000)::int),
           CASE WHEN a.status = 'retired' THEN LEAST(%(today)s::date - 1, a.birth_date + 22645) END,
           CASE WHEN a.status = 'retired' THEN 'retirement' ELSE '' END
    FROM (SELECT id, birth_date, status, random() AS r, random() AS r2
          FROM accounts_agent WHERE id BETWEEN %(first)s AND %(last)s) AS a
    """,
    # Statistics of the rows just written (in this transaction: autovacuum cannot see them), so that the
    # statements below join them by hashing, not by a nested loop over a table thought empty.
    "ANALYZE accounts_agent, adhesions_employment",
    # Coverage by the employer while employed, from the later of hiring and adhesion. The periods are written
    # adherent by adherent (as a roster reads them): the no-overlap constraint's GiST index, made after the
    # load, is built in 60 % of the time it takes on rows in the agents' order (bench/world.py --statements).
    """
    INSERT INTO adhesions_coverage (agent_id, adherent_id, period, source, created_at)
    SELECT e.agent_id, e.employer_id,
           daterange(GREATEST(e.start_date, ad.start_date), e.end_date + 1, '[)'), 'employment', now()
    FROM adhesions_employment e
    JOIN adhesions_adhesion ad ON ad.adherent_id = e.employer_id AND ad.status = 'active'
    WHERE e.agent_id BETWEEN %(first)s AND %(last)s
      AND (e.end_date IS NULL OR e.end_date >= ad.start_date)
    ORDER BY e.employer_id, e.agent_id
    """,
    # Coverage of retired agents, where the employer's adhesion covers them.
    """
    INSERT INTO adhesions_coverage (agent_id, adherent_id, period, source, created_at)
    SELECT e.agent_id, e.employer_id, daterange(GREATEST(e.end_date + 1, ad.start_date), NULL, '[)'),
           'retirement', now()
    FROM adhesions_employment e
    JOIN adhesions_adhesion ad ON ad.adherent_id = e.employer_id AND ad.status = 'active'
                               AND ad.covers_retired
    WHERE e.agent_id BETWEEN %(first)s AND %(last)s AND e.end_reason = 'retirement'
    ORDER BY e.employer_id, e.agent_id
    """,
    # Extension after a departure (not by death) until 31 December, while the employer adheres,
    # where no retirement coverage takes over (agents here have a single employment).
    """
    INSERT INTO adhesions_coverage (agent_id, adherent_id, period, source, created_at)
    SELECT e.agent_id, e.employer_id,
           daterange(GREATEST(e.end_date + 1, ad.start_date), make_date(EXTRACT(YEAR FROM e.end_date)::int + 1, 1, 1),
                     '[)'), 'extension', now()
    FROM adhesions_employment e
    JOIN adhesions_adhesion ad ON ad.adherent_id = e.employer_id AND ad.status = 'active'
    WHERE e.agent_id BETWEEN %(first)s AND %(last)s AND e.end_date IS NOT NULL AND e.end_reason <> 'death'
      AND e.end_date >= ad.start_date AND NOT (e.end_reason = 'retirement' AND ad.covers_retired)
      AND GREATEST(e.end_date + 1, ad.start_date) < make_date(EXTRACT(YEAR FROM e.end_date)::int + 1, 1, 1)
    ORDER BY e.employer_id, e.agent_id
    """,
    # The basis of the contribution: employment and retirement periods, whatever the adhesion.
    """
    INSERT INTO adhesions_basisperiod (agent_id, adherent_id, period, source)
    SELECT e.agent_id, e.employer_id, daterange(e.start_date, e.end_date + 1, '[)'), 'employment'
    FROM adhesions_employment e WHERE e.agent_id BETWEEN %(first)s AND %(last)s
    UNION ALL
    SELECT e.agent_id, e.employer_id, daterange(e.end_date + 1, NULL, '[)'), 'retirement'
    FROM adhesions_employment e JOIN accounts_agent a ON a.id = e.agent_id AND a.status = 'retired'
    WHERE e.agent_id BETWEEN %(first)s AND %(last)s AND e.end_reason = 'retirement'
    ORDER BY 2, 1
    """,
    "ANALYZE adhesions_coverage, adhesions_basisperiod",
    # Spouses for a little over half of the agents.
    """
    INSERT INTO accounts_familymember (agent_id, relation, first_name, last_name, birth_date, is_dependent)
    SELECT a.id, 'spouse',
           CASE WHEN a.sex = 'F' THEN (%(male)s::text[])[1 + floor(random() * array_length(%(male)s::text[], 1))::int]
                ELSE (%(female)s::text[])[1 + floor(random() * array_length(%(female)s::text[], 1))::int] END,
           a.last_name, a.birth_date - 1500 + floor(random() * 3000)::int, false
    FROM accounts_agent a WHERE a.id BETWEEN %(first)s AND %(last)s AND random() < 0.55
    """,
    # Zero to three children, born when the agent was 22 to 42, never in the future.
    """
    INSERT INTO accounts_familymember (agent_id, relation, first_name, last_name, birth_date, is_dependent)
    SELECT k.id, 'child',
           (%(children)s::text[])[1 + floor(random() * array_length(%(children)s::text[], 1))::int],
           k.last_name, k.child_birth, k.child_birth > %(today)s::date - 7300
    FROM (
        SELECT a.id, a.last_name,
               LEAST(%(today)s::date - 20, a.birth_date + 8030 + floor(random() * 7300)::int) AS child_birth
        FROM accounts_agent a
        CROSS JOIN LATERAL generate_series(1, floor(random() * 4)::int + (a.id * 0)::int) AS n
        WHERE a.id BETWEEN %(first)s AND %(last)s
    ) AS k
    """,
]


# --- Contributions of the demo world ---------------------------------------------------------

AVERAGE_GROSS_SALARY = Decimal("31200")
UNPAID = {"Commune de Kerlouan-Plage", "Commune de Montclar-de-Quercy"}  # in arrears, to show the blocking


def seed_contributions(*, adherents: list[Adherent], today: datetime.date) -> None:
    """Scales for this year and the next, payroll declarations, this year's campaign issued
    and mostly paid (two communes in arrears); next year's campaign is left for staff to run."""
    from adhesions import services
    from adhesions.models import ContributionScale, PayrollDeclaration
    from adhesions.selectors import roster_counts

    year = today.year
    for scale_year in (year, year + 1):
        ContributionScale.objects.get_or_create(year=scale_year, defaults={
            "employer_mode": ContributionScale.Mode.PAYROLL, "payroll_rate": Decimal("0.86"),
            "floor_per_agent": Decimal("150.00"), "ceiling_per_agent": Decimal("420.00"),
            "flat_per_agent": Decimal("212.00"), "cos_per_agent": Decimal("125.00"),
            "retired_flat": Decimal("137.80"), "due_date": datetime.date(scale_year, 3, 31), "grace_days": 60})
    for adherent in adherents:
        if adherent.is_cos or not adherent.adhesions.exists():
            continue
        for declared_year in (year - 1, year):
            if declared_year == year and adherent.name == "Ville de Saint-Aubin-sur-Loire":
                continue  # left for the demo correspondent to declare
            counts = roster_counts(adherent=adherent, day=datetime.date(declared_year, 12, 31))
            PayrollDeclaration.objects.create(
                adherent=adherent, year=declared_year, working_headcount=counts["working"],
                retired_headcount=counts["retired"], gross_payroll=AVERAGE_GROSS_SALARY * counts["working"])
    campaign = services.run_campaign_now(actor=None, scale=ContributionScale.objects.get(year=year),
                                         issued_on=min(today, datetime.date(year, 1, 15)))
    for call in campaign.calls.select_related("adherent"):
        if call.adherent.name in UNPAID:
            if call.adherent.name == "Commune de Montclar-de-Quercy":
                services.record_payment(actor=None, call=call, amount=(call.amount / 2).quantize(Decimal("0.01")),
                                        paid_on=datetime.date(year, 4, 20), bank_reference=call.reference)
            continue
        if not call.amount:
            continue  # nothing to pay
        services.record_payment(actor=None, call=call, amount=call.amount, paid_on=datetime.date(year, 3, 15),
                                bank_reference=f"VIR {call.adherent.name.upper()} {call.reference}")
