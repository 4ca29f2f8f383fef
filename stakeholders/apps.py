from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    from .roles import sync_role_groups

    sync_role_groups(verbosity=0)


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = _("Stakeholders")

    def ready(self) -> None:
        # Keeps role groups equal to roles.ROLE_PERMISSIONS after every migrate, including
        # permissions of apps migrated after the role_groups data migration.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="stakeholders_sync_roles")
