from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "atensi"
    label = "atensi"
    verbose_name = _("ATENSI core")
