"""python manage.py run_campaign YEAR [--dry-run]"""

from django.core.management.base import BaseCommand, CommandError

from adhesions import services
from adhesions.computation import totals_by_kind
from adhesions.models import AdherentKind, ContributionScale
from cnas.money import format_euros


class Command(BaseCommand):
    help = ("Lance (ou reprend) la campagne de cotisation d'une année : calcule les appels non encore émis et "
            "édite leurs PDF. Avec --dry-run, affiche les totaux par nature d'adhérent sans rien écrire.")

    def add_arguments(self, parser):
        parser.add_argument("year", type=int)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, year: int, dry_run: bool, **options):
        scale = ContributionScale.objects.filter(year=year).first()
        if scale is None:
            raise CommandError(f"Aucun barème pour {year} : créez-le dans l'administration.")
        if dry_run:
            totals = totals_by_kind(scale)
            self.stdout.write(f"Campagne {year} (simulation, rien n'est écrit)")
            for kind, label in AdherentKind.choices:
                count, amount = totals.get(kind, (0, 0))
                self.stdout.write(f"  {label:<32} {count:>7} appel(s)  {format_euros(amount):>18}")
            count = sum(c for c, _ in totals.values())
            amount = sum((a for _, a in totals.values()), 0)
            self.stdout.write(f"  {'total':<32} {count:>7} appel(s)  {format_euros(amount):>18}")
            return
        campaign = services.run_campaign_now(actor=None, scale=scale, progress=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(
            f"Campagne {year} : {campaign.get_status_display()}, {campaign.computed_count} appels."))
