from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CnasConfig(AppConfig):
    name = "cnas"
    verbose_name = _("Organisme national")

    def ready(self):
        from cnas import checks  # noqa: F401  (registers the portal's system checks)
