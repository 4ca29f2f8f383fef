"""Breach support for national administrators (cases.breach): one account, a window of
days, a workbook of the children its data reached and the roles it held then."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from atensi.core.access import record_access_many
from atensi.core.spreadsheets import XLSX_CONTENT_TYPE
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import User
from stakeholders.permissions import is_national_admin

from ..breach import account_named, make_breach_report

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A window longer than this is an audit, not a breach: the access log answers it.
MAX_DAYS = 92


class BreachForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Account (username)"), max_length=150)
    start = forms.DateField(label=gettext_lazy("From (first day)"), widget=_DATE)
    end = forms.DateField(label=gettext_lazy("To (last day)"), widget=_DATE)

    def clean_username(self) -> User:
        account = account_named(self.cleaned_data["username"])
        if account is None:
            raise ValidationError(_("No account has this username."))
        return account

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, datetime.date) and isinstance(end, datetime.date):
            if end < start:
                raise ValidationError(_("The last day comes before the first."))
            if (end - start).days > MAX_DAYS:
                raise ValidationError(_("Choose at most %(days)s days.") % {"days": MAX_DAYS})
            if start > timezone.localdate():
                raise ValidationError(_("The window starts in the future."))
        return data

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        zone = timezone.get_current_timezone()
        start = datetime.datetime.combine(self.cleaned_data["start"], datetime.time.min, zone)
        end = datetime.datetime.combine(self.cleaned_data["end"] + datetime.timedelta(days=1), datetime.time.min, zone)
        return start, end


@require_GET
def breach_report(request: AuthenticatedRequest) -> HttpResponse:
    if not is_national_admin(request.user):
        raise Http404(_("Not found."))
    form = BreachForm(request.GET or None)
    if form.is_bound and form.is_valid():
        account: User = form.cleaned_data["username"]
        start, end = form.window()
        report = make_breach_report(account=account, start=start, end=end)
        # The workbook names children: an export of their data, in the access log like any.
        record_access_many(user=request.user, objects=report.children, action="export", request=request)
        response = HttpResponse(report.workbook, content_type=XLSX_CONTENT_TYPE)
        name = f"breach-{account.username}-{form.cleaned_data['start']:%Y%m%d}-{form.cleaned_data['end']:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return render(request, "cases/breach_report.html", {"form": form}, status=400 if form.is_bound else 200)


urlpatterns = [path("reports/breach/", breach_report, name="breach_report")]
