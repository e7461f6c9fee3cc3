from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdhesionsConfig(AppConfig):
    name = "adhesions"
    verbose_name = _("Adhérents et adhésions")

    def ready(self) -> None:
        from accounts import spaces
        from adhesions.models import Manager
        from adhesions.selectors import manager_roles

        spaces.register(spaces.Space(
            code="collectivite", label=_("Ma collectivité"), url_name="collectivite:index", order=20,
            applies_to=lambda user: Manager.Role.CORRESPONDENT in manager_roles(user),
            requires_mfa=True,
        ))
