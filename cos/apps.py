from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CosConfig(AppConfig):
    name = "cos"
    verbose_name = _("COS et amicales")

    def ready(self) -> None:
        from accounts import spaces
        from adhesions.coverage import register_deriver
        from adhesions.models import Manager
        from adhesions.selectors import manager_roles
        from cos.coverage import recompute_for_adherent

        register_deriver(recompute_for_adherent)

        spaces.register(spaces.Space(
            code="cos", label=_("Mon COS"), url_name="cos:index", order=30,
            applies_to=lambda user: Manager.Role.COS_ADMIN in manager_roles(user),
            requires_mfa=True,
        ))
