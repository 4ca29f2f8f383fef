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

from atensi.core.access import actor_for
from atensi.core.keyset import decode_time_cursor, encode_cursor, rows_after
from atensi.core.models import AccessLog

from ..http import AuthenticatedRequest
from ..permissions import is_national_admin
from ..roles import Role
from ..selectors import access_log_visible_to

PAGE_SIZE = 50
_CURSOR_SALT = "stakeholders.access_log"
_ORDER = (("at", True), ("pk", True))
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
    if not (actor_for(request.user).org_ids(Role.SUPERVISOR) or is_national_admin(request.user)):
        raise Http404(_("Not found."))
    form = AccessLogFilter(request.GET or None)
    entries = access_log_visible_to(request.user).select_related("user").order_by("-at", "-pk")
    status = 200
    if form.is_bound:
        if form.is_valid():
            entries = form.apply(entries)
        else:
            entries, status = entries.none(), 400
    cursor = decode_time_cursor(request.GET.get("after"), salt=_CURSOR_SALT)
    if cursor is not None:
        entries = entries.filter(rows_after(_ORDER, [cursor[0]], cursor[1]))
    rows = list(entries[: PAGE_SIZE + 1])
    next_cursor = None
    if len(rows) > PAGE_SIZE:
        rows = rows[:PAGE_SIZE]
        next_cursor = encode_cursor(rows[-1].at.isoformat(), rows[-1].pk, salt=_CURSOR_SALT)
    query = request.GET.copy()
    query.pop("after", None)
    context = {"form": form, "rows": rows, "next_cursor": next_cursor, "query": query.urlencode()}
    return render(request, "stakeholders/access_log.html", context, status=status)


urlpatterns = [path("access-log/", access_log, name="access_log")]
