from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    from .roles import sync_role_groups

    sync_role_groups(verbosity=0)


def _reload_test_regions(sender: AppConfig, **kwargs: object) -> None:
    # Tests only (ATENSI_TEST_REGIONS in test settings): the test database is migrated with
    # these regions — once, into the template every test database is cloned from
    # (atensi.testing.database, which also keeps them through transactional tests), and the
    # bench's database.
    from django.conf import settings

    from .regions import load_regions, regions_loaded

    provinces = getattr(settings, "ATENSI_TEST_REGIONS", None)
    if provinces and not regions_loaded(provinces[0]):
        load_regions(provinces)


class StakeholdersConfig(AppConfig):
    name = "stakeholders"
    verbose_name = _("Stakeholders")

    def ready(self) -> None:
        # Keeps role groups equal to roles.ROLE_PERMISSIONS after every migrate, including
        # permissions of apps migrated after the role_groups data migration.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="stakeholders_sync_roles")
        post_migrate.connect(_reload_test_regions, sender=self, dispatch_uid="stakeholders_test_regions")
        from . import (  # noqa: F401 - reminders: the agreement reminder rule and its renderer
            denials,  # the renderer of the denial-burst alert
            exports,
            providers,
            reminders,
            second_factor,  # notes at sign-in whether the person has a second factor
        )

        # Memberships behind access scoping, delivery-time checks, time zones, clean-up.
        providers.register()
