from __future__ import annotations

from .views import detail, lists, send

app_name = "referrals"

urlpatterns = [
    *lists.urlpatterns,
    *send.urlpatterns,
    *detail.urlpatterns,
]
