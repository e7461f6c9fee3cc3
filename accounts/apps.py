from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Personnes")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import spaces
        from accounts.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="accounts.sync_roles")

        spaces.register(spaces.Space(
            code="admin", label=_("Administration"), url_name="admin:index", order=10,
            applies_to=lambda user: user.is_staff, requires_mfa=True,
        ))
