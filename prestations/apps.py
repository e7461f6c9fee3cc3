from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PrestationsConfig(AppConfig):
    name = "prestations"
    verbose_name = _("Prestations")

    def ready(self) -> None:
        from accounts import spaces

        spaces.register(spaces.Space(
            code="espace", label=_("Mon espace"), url_name="espace:home", order=40,
            applies_to=lambda user: hasattr(user, "agent"),
        ))
