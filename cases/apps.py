from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        from . import (
            exports,  # noqa: F401 - the case list's export (atensi.core.exports)
            reminders,  # noqa: F401 - reminder rules and their renderers (atensi.core.reminders)
        )
