from django.urls import path

from . import views

app_name = "stakeholders"

urlpatterns = [
    path("organisations/<int:organisation_id>/staff/", views.staff_list, name="staff_list"),
    path("organisations/<int:organisation_id>/staff/add/", views.staff_invite, name="staff_invite"),
    path(
        "organisations/<int:organisation_id>/staff/<int:membership_id>/active/",
        views.membership_set_active,
        name="membership_set_active",
    ),
]
