"""The stakeholders app's URLs: each area's views module owns its patterns."""

from .views import agreements, directory, finder, imports, regions, staff, workforce

app_name = "stakeholders"

urlpatterns = [
    *staff.urlpatterns,
    *agreements.urlpatterns,
    *finder.urlpatterns,
    *directory.urlpatterns,
    *workforce.urlpatterns,
    *regions.urlpatterns,
    *imports.urlpatterns,
]
