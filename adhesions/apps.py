from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdhesionsConfig(AppConfig):
    name = "adhesions"
    verbose_name = _("Adhérents et adhésions")

    def ready(self) -> None:
        from accounts import spaces
        from adhesions.models import Manager

        spaces.register(spaces.Space(
            code="collectivite", label=_("Ma collectivité"), url_name="collectivite:index", order=20,
            applies_to=lambda user: user.managements.filter(role=Manager.Role.CORRESPONDENT).exists(),
            requires_mfa=True,
        ))
