from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from . import notify, reassign, reminders  # noqa: F401 - reminder rules, events and their renderers (atensi.core.notifications)
