from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "atensi"
    label = "atensi"
    verbose_name = _("ATENSI core")

    def ready(self) -> None:
        from .admin import restrict_events_browser

        restrict_events_browser()
