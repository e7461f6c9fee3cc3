"""The demo logins: fixed e-mails, one password, fixed TOTP secrets.

For demonstration databases only (seed_demo); never used by the portal itself."""

import time
from dataclasses import dataclass

from django.db import transaction

DEMO_PASSWORD = "Portail-Demo-2026"  # noqa: S105 - documented demo password


@dataclass(frozen=True)
class DemoLogin:
    email: str
    first_name: str
    last_name: str
    role: str
    totp_secret: str = ""  # base32; empty: no second factor enrolled


DEMO_LOGINS = [
    DemoLogin("agent@demo.test", "Julien", "Martin", "agent"),
    DemoLogin("correspondant@demo.test", "Claire", "Dubois", "correspondante de Saint-Aubin-sur-Loire (et agent)",
              "JBSWY3DPEHPK3PXPCNASDEMOCORRESPA"),
    DemoLogin("correspondant2@demo.test", "Marc", "Girard", "correspondant du Département du Val-d'Argent",
              "JBSWY3DPEHPK3PXPCNASDEMOCORRESPB"),
    DemoLogin("cos@demo.test", "Nathalie", "Leroy", "administratrice du COS de Saint-Aubin-sur-Loire",
              "JBSWY3DPEHPK3PXPCNASDEMOCOSADMIN"),
    DemoLogin("instructeur@demo.test", "Karim", "Benali", "instructeur, délégation Auvergne-Rhône-Alpes",
              "JBSWY3DPEHPK3PXPCNASDEMOINSTRUCT"),
    DemoLogin("instructeur.bretagne@demo.test", "Gwen", "Le Floch", "instructrice, délégation Bretagne",
              "JBSWY3DPEHPK3PXPCNASDEMOINSTRBRE"),
    DemoLogin("gestionnaire@demo.test", "Sophie", "Bernard",
              "gestionnaire des adhérents, délégation Auvergne-Rhône-Alpes", "JBSWY3DPEHPK3PXPCNASDEMOSTAFFAAA"),
    DemoLogin("social@demo.test", "Amandine", "Roux", "travailleuse sociale, délégation Auvergne-Rhône-Alpes",
              "JBSWY3DPEHPK3PXPCNASDEMOSOCIALWK"),
    DemoLogin("comptable@demo.test", "Isabelle", "Moreau", "comptable, siège (national)",
              "JBSWY3DPEHPK3PXPCNASDEMOCOMPTABL"),
    DemoLogin("superviseur@demo.test", "Hélène", "Garnier", "superviseure, siège (national)",
              "JBSWY3DPEHPK3PXPCNASDEMOSUPERVIS"),
    DemoLogin("administrateur@demo.test", "Thomas", "Petit", "administrateur des comptes de l'équipe, siège",
              "JBSWY3DPEHPK3PXPCNASDEMOADMINSTR"),
    DemoLogin("admin@demo.test", "Paul", "Lambert", "super-administrateur",
              "JBSWY3DPEHPK3PXPCNASDEMOSUPERADM"),
]
DEMO_BY_EMAIL = {login.email: login for login in DEMO_LOGINS}
# The staff of the demo: one member per role (accounts.roles), with a delegation or the national flag.
DEMO_STAFF = {
    "instructeur@demo.test": ("Instructeur", "ARA", "Instructeur"),
    "instructeur.bretagne@demo.test": ("Instructeur", "BRE", "Instructrice"),
    "gestionnaire@demo.test": ("Gestionnaire des adhérents", "ARA", "Gestionnaire conseil"),
    "social@demo.test": ("Travailleur social", "ARA", "Assistante sociale"),
    "comptable@demo.test": ("Comptable", None, "Comptable"),
    "superviseur@demo.test": ("Superviseur", None, "Responsable de l'instruction"),
    "administrateur@demo.test": ("Administrateur", None, "Administrateur des comptes"),
}


@transaction.atomic
def create_demo_user(login: DemoLogin, *, is_staff: bool = False, is_superuser: bool = False):
    """The user with a verified e-mail address and, where set, the fixed TOTP secret."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP

    from accounts.models import User

    user = User.objects.create_user(
        email=login.email, password=DEMO_PASSWORD, first_name=login.first_name,
        last_name=login.last_name, is_staff=is_staff or is_superuser, is_superuser=is_superuser,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if login.totp_secret:
        TOTP.activate(user, login.totp_secret)
        RecoveryCodes.activate(user)
    return user


def current_totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app would show now for this secret."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(at if at is not None else time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
