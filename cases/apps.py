from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        # Reminder rules, events and their renderers (atensi.core.notifications); the case
        # list's export (atensi.core.exports).
        from . import exports, notify, reassign, reminders  # noqa: F401
        from .beneficiaries import screening  # noqa: F401 - the contact request's renderer
        from .subject_access import bundle  # noqa: F401 - the subject access file (an export)
        from .subject_access import reminders as subject_access_reminders  # noqa: F401 - its deadline's rule
