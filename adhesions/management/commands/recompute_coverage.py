from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from adhesions.coverage import recompute_adherent
from adhesions.models import Adherent


class Command(BaseCommand):
    help = ("Recalcule la couverture et l'assiette des cotisations d'après les effectifs, les adhésions et "
            "les membres des COS (tous les adhérents, ou un seul). Sans effet quand tout est à jour.")

    def add_arguments(self, parser):
        parser.add_argument("--siret", help="un seul adhérent")

    def handle(self, *args, siret: str | None = None, **options):
        adherents = Adherent.objects.order_by("pk")
        if siret:
            adherents = adherents.filter(siret=siret)
            if not adherents.exists():
                raise CommandError(f"Aucun adhérent ne porte le SIRET {siret}.")
        total = 0
        for adherent in adherents.iterator():
            with transaction.atomic():
                total += recompute_adherent(adherent=adherent)
        self.stdout.write(f"{total} agent(s) dont la couverture a changé.")
