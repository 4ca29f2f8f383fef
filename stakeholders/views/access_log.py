"""The searchable access log: supervisors search the entries about their organisations'
records, national administrators all of them (stakeholders.selectors.access_log_visible_to)."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from atensi.core.keyset import time_page
from atensi.core.models import AccessLog

from ..http import AuthenticatedRequest
from ..permissions import can_search_access_log
from ..selectors import access_log_visible_to

PAGE_SIZE = 50
_CURSOR_SALT = "stakeholders.access_log"
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
RECORD_TYPES = [
    ("", gettext_lazy("Any record")),
    ("cases.case", gettext_lazy("Case")),
    ("cases.beneficiary", gettext_lazy("Child")),
    ("cases.document", gettext_lazy("Document")),
    ("referrals.referral", gettext_lazy("Referral")),
    ("stakeholders.organisation", gettext_lazy("Organisation")),
]


class AccessLogFilter(forms.Form):
    username = forms.CharField(label=gettext_lazy("Who (username)"), max_length=150, required=False)
    action = forms.ChoiceField(
        label=gettext_lazy("What"),
        required=False,
        choices=[("", gettext_lazy("Anything")), *AccessLog.Action.choices],
    )
    record_type = forms.ChoiceField(label=gettext_lazy("Record"), required=False, choices=RECORD_TYPES)
    record_id = forms.CharField(label=gettext_lazy("Record id"), max_length=64, required=False)
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=_DATE)
    end = forms.DateField(label=gettext_lazy("To"), required=False, widget=_DATE)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
            raise ValidationError(_("The last day comes before the first."))
        return data

    def apply(self, entries: QuerySet[AccessLog]) -> QuerySet[AccessLog]:
        data = self.cleaned_data
        if data.get("username"):
            entries = entries.filter(user__username__iexact=data["username"].strip())
        if data.get("action"):
            entries = entries.filter(action=data["action"])
        if data.get("record_type"):
            entries = entries.filter(target_type=data["record_type"])
        if data.get("record_id"):
            entries = entries.filter(target_id=data["record_id"].strip())
        zone = timezone.get_current_timezone()
        if data.get("start"):
            entries = entries.filter(at__gte=datetime.datetime.combine(data["start"], datetime.time.min, zone))
        if data.get("end"):
            day_after = data["end"] + datetime.timedelta(days=1)
            entries = entries.filter(at__lt=datetime.datetime.combine(day_after, datetime.time.min, zone))
        return entries


@require_GET
def access_log(request: AuthenticatedRequest) -> HttpResponse:
    if not can_search_access_log(request.user):
        raise Http404(_("Not found."))
    form = AccessLogFilter(request.GET or None)
    entries = access_log_visible_to(request.user).select_related("user")
    status = 200
    if form.is_bound:
        if form.is_valid():
            entries = form.apply(entries)
        else:
            entries, status = entries.none(), 400
    page = time_page(
        entries, field="at", descending=True, after=request.GET.get("after"), size=PAGE_SIZE, salt=_CURSOR_SALT
    )
    query = request.GET.copy()
    query.pop("after", None)
    context = {"form": form, "rows": page.rows, "next_cursor": page.next_cursor, "query": query.urlencode()}
    return render(request, "stakeholders/access_log.html", context, status=status)


urlpatterns = [path("access-log/", access_log, name="access_log")]
