"""python manage.py eligibility SIRET EMPLOYEE_NUMBER CODE [--date YYYY-MM-DD] [--child FIRSTNAME]
[--event-date YYYY-MM-DD] [--expense AMOUNT]"""

import datetime
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from adhesions.models import Employment
from cnas.money import format_euros
from cnas.validators import compact_siret
from prestations.eligibility import evaluate
from prestations.models import Prestation


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"Date invalide : {text} (attendu AAAA-MM-JJ).") from exc


class Command(BaseCommand):
    help = "Dit si un agent peut obtenir une prestation, pour quel montant, et pourquoi."

    def add_arguments(self, parser):
        parser.add_argument("siret")
        parser.add_argument("employee_number")
        parser.add_argument("code")
        parser.add_argument("--date", help="Date de la demande (par défaut : aujourd'hui).")
        parser.add_argument("--child", help="Prénom de l'enfant concerné.")
        parser.add_argument("--event-date", help="Date de l'événement (mariage, décès, départ…).")
        parser.add_argument("--expense", help="Montant de la dépense, pour les aides proportionnelles.")

    def handle(self, *args, siret, employee_number, code, date, child, event_date, expense, **options):
        line = (Employment.objects.filter(employer__siret=compact_siret(siret), employee_number=employee_number)
                .select_related("agent").order_by("end_date").first())
        if line is None:
            raise CommandError("Aucun agent avec ce matricule chez cet employeur.")
        prestation = Prestation.objects.filter(code=code).first()
        if prestation is None:
            raise CommandError(f"Prestation inconnue : {code}.")
        agent = line.agent
        member = None
        if child:
            member = agent.household.filter(relation="child", first_name__iexact=child).first()
            if member is None:
                raise CommandError(f"Aucun enfant prénommé {child} dans le foyer de l'agent.")
        try:
            amount = Decimal(expense.replace(",", ".")) if expense else None
        except InvalidOperation as exc:
            raise CommandError(f"Montant invalide : {expense}.") from exc
        verdict = evaluate(agent=agent, prestation=prestation, on=_date(date) if date else timezone.localdate(),
                           event_date=_date(event_date) if event_date else None, child=member, expense=amount)
        self.stdout.write(f"{agent} — {prestation.name}")
        self.stdout.write(("ÉLIGIBLE" if verdict.eligible else "NON ÉLIGIBLE")
                          + (f" — {format_euros(verdict.amount)}" if verdict.amount is not None else ""))
        for reason in verdict.reasons:
            self.stdout.write(f"  ✗ {reason}")
        for note in verdict.notes:
            self.stdout.write(f"  · {note}")
