from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_BY_EMAIL, current_totp_code


class Command(BaseCommand):
    help = "Affiche le code TOTP actuel d'un compte de démonstration (seed_demo)."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        email = email.strip().lower()
        if email not in DEMO_BY_EMAIL:
            raise CommandError(f"{email} n'est pas un compte de démonstration.")
        authenticator = Authenticator.objects.filter(
            user__email=email, type=Authenticator.Type.TOTP
        ).first()
        if authenticator is None:
            raise CommandError(f"{email} n'a pas de double authentification (lancez seed_demo).")
        secret = decrypt(authenticator.data["secret"])
        self.stdout.write(current_totp_code(secret))
