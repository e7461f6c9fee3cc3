from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CnasConfig(AppConfig):
    name = "cnas"
    verbose_name = _("Organisme national")
