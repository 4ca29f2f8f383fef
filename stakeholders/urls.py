"""The stakeholders app's URLs: each area's views module owns its patterns."""

from django.urls import path

from . import sessions
from .views import (
    access_log,
    agreements,
    directory,
    finder,
    imports,
    people,
    regions,
    second_factor,
    staff,
    workforce,
)

app_name = "stakeholders"

urlpatterns = [
    *staff.urlpatterns,
    *agreements.urlpatterns,
    *finder.urlpatterns,
    *directory.urlpatterns,
    *workforce.urlpatterns,
    *regions.urlpatterns,
    *imports.urlpatterns,
    *second_factor.urlpatterns,
    *access_log.urlpatterns,
    *people.urlpatterns,
    path("account/session/", sessions.session_status, name="session_status"),
    path("account/sessions/end-others/", sessions.end_other_sessions, name="end_other_sessions"),
]
