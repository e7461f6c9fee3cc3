from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Personnes")

    def ready(self) -> None:
        from accounts import spaces

        spaces.register(spaces.Space(
            code="admin", label=_("Administration"), url_name="admin:index", order=10,
            applies_to=lambda user: user.is_staff, requires_mfa=True,
        ))
