"""Build the demo world: python manage.py seed_demo [--agents N --adherents M]."""

import datetime
import logging
import random
import time
from contextlib import nullcontext
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.demo import DEMO_LOGINS, DEMO_PASSWORD, DEMO_STAFF, create_demo_user
from accounts.models import Agent, FamilyMember, StaffProfile
from adhesions import demo, services
from adhesions.models import Adherent, Employment, Manager
from cnas.bulk import indexes_built_after
from cos import services as cos_services
from cos.demo import MEMBER_TABLES, populate_members, seed_local_actions
from prestations.demo import populate_requests, seed_catalogue, seed_requests

SEED_LOCK = 74_210_001  # advisory lock id: two seeds never run at once


class Command(BaseCommand):
    help = ("Charge les données de démonstration (idempotent). Avec --agents et --adherents, "
            "ajoute un monde généré en masse pour les mesures de performance.")

    def add_arguments(self, parser):
        parser.add_argument("--agents", type=int, default=0, help="Nombre d'agents à générer en masse.")
        parser.add_argument("--adherents", type=int, default=0, help="Nombre d'adhérents à générer.")
        parser.add_argument("--requests", type=int, default=0,
                            help="Nombre de demandes à générer pour les agents générés (trois années).")

    def handle(self, *args, agents: int, adherents: int, requests: int, **options):
        if agents < 0 or adherents < 0 or requests < 0:
            raise CommandError("Les nombres doivent être positifs.")
        if requests and not agents:
            raise CommandError("--requests demande --agents : les demandes vont aux agents générés.")
        if agents and not adherents:
            adherents = max(10, agents // 50)
        statements = logging.getLogger("cnas.bulk")  # the time of each statement of the bulk loads: with -v 2
        statements.setLevel(logging.INFO if options["verbosity"] >= 2 else logging.WARNING)
        if options["verbosity"] >= 2 and not statements.handlers:
            handler = logging.StreamHandler(self.stdout)
            handler.setFormatter(logging.Formatter("    %(message)s"))
            statements.addHandler(handler)
            statements.propagate = False
        started = time.monotonic()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEED_LOCK])
            if Adherent.objects.filter(siret=self._demo_sirets()[0]).exists():
                self.stdout.write("Le monde de démonstration est déjà chargé : rien à faire.")
            else:
                self._seed_small_world()
                self.stdout.write(self.style.SUCCESS("Monde de démonstration chargé."))
        if adherents:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEED_LOCK])
                self._seed_bulk_world(adherents=adherents, agents=agents, requests=requests)
        with connection.cursor() as cursor:
            # Fresh statistics for the planner after bulk loads; after a generated world, the visibility
            # map too (as autovacuum would set it later), so that index-only scans stay index-only.
            # (VACUUM cannot run inside a transaction, as when a test calls this command.)
            cursor.execute("VACUUM (ANALYZE)" if adherents and not connection.in_atomic_block else "ANALYZE")
        self.stdout.write(f"Durée : {time.monotonic() - started:.1f} s")
        self._print_logins()

    @staticmethod
    def _demo_sirets() -> list[str]:
        return [demo.make_siret(spec.category, index + 1) for index, spec in enumerate(demo.DEMO_ADHERENTS)]

    def _seed_small_world(self) -> None:
        regions = demo.ensure_regions()
        specs = [
            demo.AdherentSpec(**{**spec.__dict__, "siret": siret, "cos_serves": list(spec.cos_serves)})
            for spec, siret in zip(demo.DEMO_ADHERENTS, self._demo_sirets(), strict=True)
        ]
        adherents = demo.create_adherents(specs, regions)
        first, last = demo.populate_agents(adherents=adherents, specs=specs, agents=200, seed=0.2026)
        populate_members(adherents=adherents, specs=specs, first=first, last=last, today=timezone.localdate())
        by_name = {a.name: a for a in adherents}
        self._seed_people(by_name, regions)
        demo.seed_contributions(adherents=adherents, today=timezone.localdate())
        seed_catalogue(today=timezone.localdate())
        seed_requests(today=timezone.localdate())
        seed_local_actions(today=timezone.localdate())

    def _seed_people(self, by_name: dict[str, Adherent], regions) -> None:
        users = {}
        for login in DEMO_LOGINS:
            users[login.email] = create_demo_user(
                login, is_staff=login.email in DEMO_STAFF, is_superuser=login.email == "admin@demo.test",
            )
        saint_aubin = by_name["Ville de Saint-Aubin-sur-Loire"]
        cos = by_name["COS de Saint-Aubin-sur-Loire"]

        julien = Agent.objects.create(
            user=users["agent@demo.test"], last_name="Martin", first_name="Julien", sex="M",
            birth_date=datetime.date(1986, 4, 12), email="agent@demo.test", phone="06 12 34 56 78",
            address="12 rue des Tilleuls", postcode="42130", city="Saint-Aubin-sur-Loire",
        )
        services.register_employment(actor=None, agent=julien, employer=saint_aubin,
                                     employee_number="SA-00042", start_date=datetime.date(2014, 9, 1))
        member = cos_services.add_member(actor=None, cos=cos, agent=julien, joined_on=datetime.date(2016, 1, 1))
        for year in range(2016, timezone.localdate().year + 1):
            cos_services.record_fee(actor=None, member=member, year=year, amount=Decimal("25.00"),
                                    paid_on=datetime.date(year, 1, 20), means="payroll")
        FamilyMember.objects.bulk_create([
            FamilyMember(agent=julien, relation="spouse", first_name="Élodie", last_name="Martin",
                         birth_date=datetime.date(1988, 11, 3), is_dependent=False),
            FamilyMember(agent=julien, relation="child", first_name="Léa", last_name="Martin",
                         birth_date=datetime.date(2016, 5, 2)),
            FamilyMember(agent=julien, relation="child", first_name="Hugo", last_name="Martin",
                         birth_date=datetime.date(2020, 2, 17)),
        ])

        claire = Agent.objects.create(
            user=users["correspondant@demo.test"], last_name="Dubois", first_name="Claire", sex="F",
            birth_date=datetime.date(1979, 9, 23), email="correspondant@demo.test",
            postcode="42130", city="Saint-Aubin-sur-Loire",
        )
        services.register_employment(actor=None, agent=claire, employer=saint_aubin,
                                     employee_number="SA-00007", start_date=datetime.date(2008, 3, 1))
        services.appoint_manager(actor=None, user=users["correspondant@demo.test"], adherent=saint_aubin,
                                 role=Manager.Role.CORRESPONDENT)
        services.appoint_manager(actor=None, user=users["correspondant2@demo.test"],
                                 adherent=by_name["Département du Val-d'Argent"],
                                 role=Manager.Role.CORRESPONDENT)
        services.appoint_manager(actor=None, user=users["cos@demo.test"], adherent=cos,
                                 role=Manager.Role.COS_ADMIN)

        # An agent of Saint-Aubin left this year on a transfer to a commune that does not adhere:
        # the roster shows his rights kept until 31 December.
        today = timezone.localdate()
        left_on = today - datetime.timedelta(days=45)
        if left_on.year != today.year:
            left_on = today - datetime.timedelta(days=1)
        leaver = (Employment.objects.filter(employer=saint_aubin, end_date__isnull=True, agent__user__isnull=True,
                                            agent__status="working").order_by("id").first())
        if leaver is not None:
            services.end_employment(actor=None, employment=leaver, end_date=left_on, reason="transfer",
                                    comment="Mutation vers une commune non adhérente")

        for email, (role, region, title) in DEMO_STAFF.items():
            StaffProfile.objects.create(user=users[email], region=regions[region] if region else None,
                                        is_national=region is None, job_title=title)
            users[email].groups.add(Group.objects.get(name=role))


    def _seed_bulk_world(self, *, adherents: int, agents: int, requests: int) -> None:
        rng = random.Random(adherents * 1_000_003 + agents)  # noqa: S311 - demo data, not secrets
        specs = demo.generated_adherent_specs(adherents, offset=0, rng=rng)
        if Adherent.objects.filter(siret=specs[0].siret).exists():
            self.stdout.write("Ce monde généré est déjà chargé : rien à faire.")
            return
        regions = demo.ensure_regions()
        t0 = time.monotonic()
        created = demo.create_adherents(specs, regions)
        self.stdout.write(f"{len(created)} adhérents créés en {time.monotonic() - t0:.1f} s")
        if agents:
            t0 = time.monotonic()
            # a large world: the rows of the agents and of the COS members first, the indexes after
            loading = indexes_built_after(*demo.AGENT_TABLES, *MEMBER_TABLES) if agents >= 50_000 else nullcontext()
            with loading:
                first, last = demo.populate_agents(adherents=created, specs=specs, agents=agents,
                                                   seed=rng.random())
                populate_members(adherents=created, specs=specs, first=first, last=last,
                                 today=timezone.localdate())
            self.stdout.write(f"{last - first + 1} agents (foyers, emplois, couvertures) créés "
                              f"en {time.monotonic() - t0:.1f} s")
        if requests:
            t0 = time.monotonic()
            made = populate_requests(requests=requests, first=first, last=last, seed=rng.random())
            self.stdout.write(f"{made} demandes créées en {time.monotonic() - t0:.1f} s")

    def _print_logins(self) -> None:
        self.stdout.write(f"\nComptes de démonstration (mot de passe commun : {DEMO_PASSWORD})")
        for login in DEMO_LOGINS:
            mfa = f"  [code : python manage.py demo_totp {login.email}]" if login.totp_secret else ""
            self.stdout.write(f"  {login.email:<28} {login.role}{mfa}")
