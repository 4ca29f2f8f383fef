from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from stakeholders.signin import ThrottledPasswordReset

from . import export_views, preference_views, views
from .figures_map import views as figures_map_views

admin.site.site_header = _("ATENSI Portal administration")
admin.site.site_title = _("ATENSI Portal")
admin.site.index_title = _("Administration")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/", views.notification_open, name="notification_open"),
    path("notifications/read/", views.notifications_read_all, name="notifications_read_all"),
    path("exports/", export_views.export_list, name="exports"),
    path("exports/<int:pk>/status/", export_views.export_status, name="export_status"),
    path("exports/<int:pk>/download/", export_views.export_download, name="export_download"),
    path("exports/<int:pk>/again/", export_views.export_again, name="export_again"),
    path("account/notifications/", preference_views.notification_preferences, name="notification_preferences"),
    # Before Django's own: the same URL name, rate-limited (stakeholders.signin).
    path("accounts/password_reset/", ThrottledPasswordReset.as_view(), name="password_reset"),
    path("accounts/", include("django.contrib.auth.urls")),
    # The language switch must work on the login page too.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("", include("atensi.reports.views")),
    path("", include("stakeholders.urls")),
    path("", include("cases.urls")),
    path("", include("referrals.urls")),
    path("", include(figures_map_views)),
    path("", include("atensi.dashboards.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "atensi.views.error_400"
handler403 = "atensi.views.error_403"
handler404 = "atensi.views.error_404"
