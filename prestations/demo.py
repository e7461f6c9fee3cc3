"""A believable catalogue for the demo world (about fifteen prestations)."""

import datetime
from decimal import Decimal

from cnas.pdf import blank_pdf
from prestations.models import AmountRule, Bracket, Category, DocumentKind, Event, Prestation


def _brackets(*amounts):
    limits = [Decimal("600"), Decimal("900"), Decimal("1200"), None]
    return list(zip(limits, [Decimal(a) for a in amounts], strict=True))


DOCUMENT_KINDS = {
    "acte-naissance-adoption": "Acte de naissance ou jugement d'adoption",
    "acte-mariage-pacs": "Extrait d'acte de mariage ou attestation de PACS",
    "certificat-scolarite": "Certificat de scolarité",
    "inscription-superieur": "Certificat d'inscription dans l'enseignement supérieur",
    "arrete-retraite": "Arrêté de mise à la retraite",
    "acte-deces": "Acte de décès",
    "notification-mdph": "Notification de la MDPH",
    "justificatif-depense": "Justificatif de la dépense",
    "budget-foyer": "Budget du foyer",
    "devis-facture": "Devis ou facture",
    "bail-achat": "Bail ou acte d'achat",
    "facture-sejour": "Facture du séjour",
    "facture": "Facture",
    "inscription-licence": "Attestation d'inscription ou licence",
    "arrete-medaille": "Arrêté d'attribution de la médaille",
}


CATALOGUE = [
    dict(code="naissance", name="Aide à la naissance ou à l'adoption", category=Category.AID, event=Event.BIRTH,
         amount_rule=AmountRule.FIXED, fixed_amount=Decimal("230.00"), time_limit=12, child_max_age=17,
         description="Une aide versée à la naissance ou à l'adoption d'un enfant.",
         conditions="Demande dans l'année qui suit la naissance ou l'adoption ; une aide par enfant.",
         documents=["acte-naissance-adoption"], for_retired=False),
    dict(code="mariage", name="Aide au mariage ou au PACS", category=Category.AID, event=Event.WEDDING,
         amount_rule=AmountRule.FIXED, fixed_amount=Decimal("230.00"), time_limit=12, min_service_months=6,
         description="Une aide pour votre mariage ou la conclusion d'un PACS.",
         conditions="Six mois d'ancienneté ; demande dans l'année qui suit l'événement.",
         documents=["acte-mariage-pacs"]),
    dict(code="rentree", name="Aide à la rentrée scolaire", category=Category.AID, event=Event.SCHOOL_YEAR,
         amount_rule=AmountRule.BRACKETS, brackets=_brackets("150", "110", "80", "50"), time_limit=4,
         child_min_age=3, child_max_age=18,
         description="Une aide pour les frais de rentrée, selon votre quotient familial.",
         conditions="Enfants de 3 à 18 ans à la rentrée ; une aide par enfant et par année scolaire.",
         documents=["certificat-scolarite"]),
    dict(code="etudes", name="Aide aux études supérieures", category=Category.AID, event=Event.SCHOOL_YEAR,
         amount_rule=AmountRule.BRACKETS, brackets=_brackets("400", "300", "200", "100"), time_limit=5,
         child_min_age=17, child_max_age=26, employer_attestation=True,
         description="Une aide pour les enfants qui poursuivent des études supérieures.",
         conditions="Enfants de 17 à 26 ans inscrits dans l'enseignement supérieur ; l'employeur atteste la demande.",
         documents=["inscription-superieur"]),
    dict(code="retraite", name="Aide au départ à la retraite", category=Category.AID, event=Event.RETIREMENT,
         amount_rule=AmountRule.FIXED, fixed_amount=Decimal("305.00"), time_limit=12, min_service_months=60,
         for_working=True, for_retired=True, employer_attestation=True,
         description="Une aide à l'occasion de votre départ à la retraite.",
         conditions="Cinq ans d'ancienneté ; demande dans l'année qui suit le départ.",
         documents=["arrete-retraite"]),
    dict(code="deces", name="Aide en cas de décès", category=Category.SOLIDARITY, event=Event.DEATH,
         amount_rule=AmountRule.FIXED, fixed_amount=Decimal("760.00"), time_limit=12, for_retired=True,
         description="Une aide pour faire face au décès d'un conjoint ou d'un enfant.",
         conditions="Décès du conjoint ou d'un enfant à charge.", documents=["acte-deces"]),
    dict(code="handicap", name="Aide aux parents d'enfant en situation de handicap",
         category=Category.SOLIDARITY, event=Event.NONE, amount_rule=AmountRule.FIXED,
         fixed_amount=Decimal("500.00"), once_per_event=True,
         description="Une aide annuelle pour les parents d'un enfant en situation de handicap.",
         conditions="Une fois par an.", documents=["notification-mdph"]),
    dict(code="secours", name="Secours exceptionnel", category=Category.SOLIDARITY, event=Event.NONE,
         amount_rule=AmountRule.SHARE, share_percent=Decimal("50"), share_ceiling=Decimal("1500.00"),
         yearly_ceiling=Decimal("1500.00"), once_per_event=False, for_retired=True, employer_attestation=True,
         description="Une aide après un accident de la vie (sinistre, surendettement, frais imprévus).",
         conditions="La moitié de la dépense, jusqu'à 1 500 € par an ; examinée par l'assistante sociale.",
         documents=["justificatif-depense", "budget-foyer"]),
    dict(code="pret-equipement", name="Prêt équipement", category=Category.LOAN, event=Event.NONE,
         amount_rule=AmountRule.SHARE, share_percent=Decimal("100"), share_ceiling=Decimal("3000.00"),
         once_per_event=True, min_service_months=6,
         description="Un prêt à taux zéro pour équiper votre logement, remboursable en 24 mois.",
         conditions="Six mois d'ancienneté ; un prêt par an, jusqu'à 3 000 €.", documents=["devis-facture"]),
    dict(code="pret-installation", name="Prêt installation", category=Category.LOAN, event=Event.NONE,
         amount_rule=AmountRule.SHARE, share_percent=Decimal("100"), share_ceiling=Decimal("2000.00"),
         once_per_event=True,
         description="Un prêt à taux zéro pour une première installation ou un déménagement.",
         conditions="Un prêt par an, jusqu'à 2 000 €.", documents=["bail-achat"]),
    dict(code="sejour-enfant", name="Séjour enfant (colonie, centre de loisirs)", category=Category.HOLIDAY,
         event=Event.NONE, amount_rule=AmountRule.SHARE, share_percent=Decimal("40"),
         share_ceiling=Decimal("400.00"), yearly_ceiling=Decimal("800.00"), once_per_event=False,
         description="Une participation aux séjours de vacances de vos enfants.",
         conditions="40 % du séjour, jusqu'à 400 € par séjour et 800 € par an.", documents=["facture-sejour"]),
    dict(code="cheque-vacances", name="Chèques-vacances", category=Category.HOLIDAY, event=Event.NONE,
         amount_rule=AmountRule.BRACKETS, brackets=_brackets("300", "220", "150", "90"), once_per_event=True,
         for_retired=True, description="Une bonification de votre épargne en chèques-vacances.",
         conditions="Une fois par an, selon votre quotient familial.", documents=[]),
    dict(code="billetterie", name="Billetterie loisirs et culture", category=Category.LEISURE, event=Event.NONE,
         amount_rule=AmountRule.SHARE, share_percent=Decimal("30"), share_ceiling=Decimal("120.00"),
         yearly_ceiling=Decimal("240.00"), once_per_event=False, for_retired=True,
         description="Une réduction sur les spectacles, parcs de loisirs et cinémas.",
         conditions="30 % du billet, jusqu'à 120 € par commande et 240 € par an.", documents=["facture"]),
    dict(code="sport", name="Aide à la pratique sportive et culturelle", category=Category.LEISURE,
         event=Event.NONE, amount_rule=AmountRule.FIXED, fixed_amount=Decimal("60.00"), once_per_event=True,
         description="Une participation à la licence ou à l'inscription d'un membre du foyer.",
         conditions="Une fois par an.", documents=["inscription-licence"]),
    dict(code="medaille", name="Médaille d'honneur du travail", category=Category.AID, event=Event.NONE,
         amount_rule=AmountRule.FIXED, fixed_amount=Decimal("150.00"), once_per_event=True, min_service_months=240,
         description="Une gratification pour la médaille d'honneur régionale, départementale et communale.",
         conditions="Vingt ans de services.", documents=["arrete-medaille"]),
]


def seed_catalogue(*, today: datetime.date) -> list[Prestation]:
    kinds = {code: DocumentKind.objects.get_or_create(code=code, defaults={"label": label})[0]
             for code, label in DOCUMENT_KINDS.items()}
    created = []
    for spec in CATALOGUE:
        values = dict(spec)
        brackets = values.pop("brackets", [])
        documents = values.pop("documents", [])
        values.setdefault("valid_from", datetime.date(today.year - 3, 1, 1))
        prestation, is_new = Prestation.objects.get_or_create(code=values.pop("code"), defaults=values)
        if is_new:
            Bracket.objects.bulk_create(Bracket(prestation=prestation, qf_max=limit, amount=amount)
                                        for limit, amount in brackets)
            prestation.required_documents.set([kinds[code] for code in documents])
            created.append(prestation)
    return created


DEMO_PDF = blank_pdf()
DEMO_IBANS = ["FR7630006000011234567890189", "FR7610107001011234567890129", "FR7630004000031234567890143",
              "FR7617569000701234567890164", "FR7612548029981234567890161"]


def seed_requests(*, today: datetime.date) -> None:
    """A queue for the demo staff member: requests of agents of the Auvergne-Rhône-Alpes
    delegation, submitted, one waiting too long, one accepted and waiting for its payment."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from accounts.models import Agent
    from prestations import services

    agents = list(Agent.objects.filter(employments__employer__name__in=[
        "Ville de Saint-Aubin-sur-Loire", "CCAS de Saint-Aubin-sur-Loire",
        "Communauté de communes du Val de Brenne"], employments__end_date__isnull=True, status="working",
        user__isnull=True).order_by("id")[:5])
    julien = Agent.objects.filter(user__email="agent@demo.test").first()
    if julien is not None:
        julien.iban, julien.bic = DEMO_IBANS[0], "AGRIFRPPXXX"
        julien.save(update_fields=["iban", "bic"])
    plans = [("sport", None), ("cheque-vacances", None), ("secours", Decimal("640.00")),
             ("billetterie", Decimal("90.00")), ("pret-equipement", Decimal("1200.00"))]
    for index, (agent, (code, expense)) in enumerate(zip(agents, plans, strict=False)):
        agent.iban = DEMO_IBANS[(index + 1) % len(DEMO_IBANS)]
        agent.save(update_fields=["iban"])
        prestation = Prestation.objects.get(code=code)
        demande = services.save_draft(actor=None, agent=agent, prestation=prestation, expense=expense)
        for kind in prestation.required_documents.all():
            services.add_document(actor=None, demande=demande, kind=kind,
                                  uploaded=SimpleUploadedFile("justificatif.pdf", DEMO_PDF))
        demande = services.submit(actor=None, demande=demande)
        if demande.status == demande.Status.AWAITING_ATTESTATION:
            demande = services.attest(actor=None, demande=demande)
        if index == 0:
            services.accept(actor=None, demande=demande)  # ready for a SEPA batch
        elif index == 1:  # waiting for too long
            type(demande).objects.filter(pk=demande.pk).update(
                submitted_at=timezone.now() - datetime.timedelta(days=prestation.instruction_limit_days + 5))


# --- Requests of a generated world, built in bulk ------------------------------------------------

_POPULATE_REQUESTS_SQL = [
    "SELECT setseed(%(seed)s)",
    """
    CREATE TEMP TABLE demo_request_agents ON COMMIT DROP AS
    SELECT e.agent_id, ad.id AS adherent_id, ad.region_id, row_number() OVER (ORDER BY e.id) AS n
    FROM adhesions_employment e JOIN adhesions_adherent ad ON ad.id = e.employer_id
    WHERE e.end_date IS NULL AND ad.kind <> 'cos' AND e.agent_id BETWEEN %(first)s AND %(last)s
    """,
    "CREATE UNIQUE INDEX ON demo_request_agents (n)",
    "ANALYZE demo_request_agents",
    # Spread over three years: 8 % waiting on staff, 2 % on the agent, the rest decided (60 % granted,
    # 20 % refused) or withdrawn; each request goes to one agent of the range (a prime stride).
    """
    WITH total AS (SELECT count(*) AS n FROM demo_request_agents),
    offered AS (SELECT array_agg(id ORDER BY id) AS ids FROM prestations_prestation),
    raw AS (
        SELECT g, random() AS r, %(now)s::timestamptz - (random() * interval '1095 days') AS submitted,
               random() AS speed, 1 + ((g::bigint * 7919) %% (SELECT n FROM total)) AS n
        FROM generate_series(1, %(requests)s) g
    )
    INSERT INTO prestations_demande
        (agent_id, prestation_id, status, event_key, adherent_id, region_id, amount_computed, amount_granted,
         amount_change_reason, refusal_reason, refusal_grounds, created_at, submitted_at, decided_at,
         agent_wait, decision_pdf, refusal_attestation_pdf)
    SELECT a.agent_id, p.ids[1 + (raw.g %% array_length(p.ids, 1))],
           CASE WHEN raw.r < 0.08 THEN 'submitted' WHEN raw.r < 0.10 THEN 'awaiting_documents'
                WHEN raw.r < 0.70 THEN 'accepted' WHEN raw.r < 0.90 THEN 'refused' ELSE 'withdrawn' END,
           'masse:' || raw.g, a.adherent_id, a.region_id, 150,
           CASE WHEN raw.r >= 0.10 AND raw.r < 0.70 THEN 150 END, '',
           CASE WHEN raw.r >= 0.70 AND raw.r < 0.90 THEN 'Hors critères' ELSE '' END, '{}',
           raw.submitted, raw.submitted,
           CASE WHEN raw.r >= 0.10 AND raw.r < 0.90
                THEN LEAST(%(now)s::timestamptz, raw.submitted + (raw.speed * interval '30 days')) END,
           interval '0', '', ''
    FROM raw JOIN demo_request_agents a ON a.n = raw.n CROSS JOIN offered p
    """,
]


def populate_requests(*, requests: int, first: int, last: int, seed: float = 0.3) -> int:
    """``requests`` requests of the agents ``first``..``last`` who work today, for the national world's
    measures (queues, delays, dashboards): set-based, like the agents. Returns how many were made."""
    from django.db import connection
    from django.utils import timezone

    from cnas import bulk

    with bulk.indexes_built_after("prestations_demande"), connection.cursor() as cursor:
        params = {"requests": requests, "first": first, "last": last, "seed": seed, "now": timezone.now()}
        for statement in _POPULATE_REQUESTS_SQL:
            bulk.execute(cursor, statement, params)
        return cursor.rowcount
