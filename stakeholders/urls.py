"""The stakeholders app's URLs: each area's views module owns its patterns."""

from .views import agreements, staff

app_name = "stakeholders"

urlpatterns = [
    *staff.urlpatterns,
    *agreements.urlpatterns,
]
