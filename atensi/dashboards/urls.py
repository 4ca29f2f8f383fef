from django.urls import path

from . import views

urlpatterns = [
    path("dashboard/", views.dashboard_entry, name="dashboard"),
    path("dashboard/national/", views.dashboard_national, name="dashboard_national"),
    path(
        "dashboard/national/download/<slug:table>/<slug:fmt>/",
        views.dashboard_national_download,
        name="dashboard_national_download",
    ),
    path("dashboard/organisation/<int:organisation_id>/", views.dashboard_organisation, name="dashboard_organisation"),
    path(
        "dashboard/organisation/<int:organisation_id>/download/<slug:table>/<slug:fmt>/",
        views.dashboard_organisation_download,
        name="dashboard_organisation_download",
    ),
    path("dashboard/region/<str:code>/", views.dashboard_region, name="dashboard_region"),
    path(
        "dashboard/region/<str:code>/download/<slug:table>/<slug:fmt>/",
        views.dashboard_region_download,
        name="dashboard_region_download",
    ),
]
