from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        # How referral notifications read (atensi.core.notifications.register).
        from . import case_pages, notify, reminders, subject_access  # noqa: F401 - renderers and reminder rules

        # The Referrals tab, panel and plan-item links of the case pages (cases.pages).
        case_pages.register()
        # The referrals of a subject access file (cases.subject_access).
        subject_access.register_sections()
