"""python manage.py import_roster SIRET FILE [--complete] [--apply]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from adhesions import services
from adhesions.models import Adherent
from adhesions.roster_file import RosterFileError
from cnas.validators import compact_siret


class Command(BaseCommand):
    help = ("Vérifie un fichier d'effectif (CSV ou XLSX) pour un adhérent et affiche l'aperçu et les erreurs, "
            "sans rien écrire ; avec --apply, l'applique en entier ou pas du tout.")

    def add_arguments(self, parser):
        parser.add_argument("siret")
        parser.add_argument("file", type=Path)
        parser.add_argument("--complete", action="store_true",
                            help="Le fichier contient tout l'effectif : les agents absents sont sortis.")
        parser.add_argument("--apply", action="store_true", help="Écrire (tout ou rien).")
        parser.add_argument("--limit", type=int, default=50, help="Lignes d'aperçu affichées par rubrique.")

    def handle(self, *args, siret, file: Path, complete: bool, apply: bool, limit: int, **options):
        adherent = Adherent.objects.filter(siret=compact_siret(siret)).first()
        if adherent is None:
            raise CommandError(f"Aucun adhérent ne porte le SIRET {siret}.")
        if not file.is_file():
            raise CommandError(f"Fichier introuvable : {file}")
        if file.stat().st_size > services.MAX_ROSTER_FILE_SIZE:
            raise CommandError("Le fichier dépasse 10 Mo.")
        try:
            plan, counts = services.import_roster_now(actor=None, adherent=adherent, data=file.read_bytes(),
                                                      filename=file.name, is_complete=complete, apply=apply)
        except RosterFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{adherent.name} ({adherent.siret}) — {file.name}")
        preview, totals = plan.preview(), plan.counts
        for kind, total, title in (("create", totals["created"], "À créer"), ("update", totals["updated"],
                                   "À mettre à jour"), ("close", totals["closed"], "À sortir")):
            lines = preview[kind]
            self.stdout.write(f"\n{title} : {total}")
            for line in lines[:limit]:
                where = f"ligne {line['line']}" if line["line"] else "absent du fichier"
                changes = " ; ".join(line["changes"])
                self.stdout.write(f"  {where:<12} {line['number']:<12} {line['name']}  {changes}".rstrip())
        self.stdout.write(f"\nInchangés : {plan.unchanged}")
        if plan.errors:
            self.stdout.write(f"\nErreurs : {len(plan.errors)}")
            for error in plan.errors:
                line = f"ligne {error.line}" if error.line else "fichier"
                self.stdout.write(f"  {line:<10} {error.column:<18} « {error.value} » : {error.message}")
            raise CommandError(f"{len(plan.errors)} erreur(s) : rien n'a été écrit.")
        if counts is None:
            self.stdout.write(self.style.WARNING("\nRien n'a été écrit (ajoutez --apply pour appliquer)."))
        else:
            self.stdout.write(self.style.SUCCESS(
                f"\nAppliqué : {counts['created']} créé(s), {counts['updated']} mis à jour, "
                f"{counts['closed']} sorti(s)."))
