"""The monthly report's page (printable: the browser's "save as PDF" gives a clean A4) and
its workbook. ?organisation=<id>&month=YYYY-MM; an organisation the user does not report
on is not found, a bad or future month is a message on the form."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from atensi.core import exports
from atensi.core.access import get_or_404
from atensi.core.errors import ApplicationError
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import Organisation
from stakeholders.selectors import organisations_reportable_by

from . import monthly


class MonthlyReportForm(forms.Form):
    organisation = forms.TypedChoiceField(label=gettext_lazy("Organisation"), coerce=int)
    month = forms.CharField(
        label=gettext_lazy("Month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
        help_text=gettext_lazy("Whole months, in the organisation's own time zone."),
    )

    def __init__(self, *args: object, organisations: list[Organisation], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["organisation"].choices = [(o.pk, o.name) for o in organisations]  # type: ignore[attr-defined]


def _report(
    request: AuthenticatedRequest,
) -> tuple[MonthlyReportForm, monthly.MonthlyReport | None]:
    organisations = list(organisations_reportable_by(request.user))
    if not organisations:
        raise Http404
    wanted = request.GET.get("organisation")
    organisation = (
        get_or_404(organisations_reportable_by(request.user), pk=wanted) if wanted is not None else organisations[0]
    )
    today = monthly.organisation_today(organisation)
    month_text = request.GET.get("month") or monthly.previous_month(today).value
    form = MonthlyReportForm({"organisation": organisation.pk, "month": month_text}, organisations=organisations)
    form.is_valid()
    try:
        month = monthly.parse_month(month_text, today=today)
    except ApplicationError as error:
        form.add_error(error.field, str(error))
        return form, None
    return form, monthly.monthly_report(organisation=organisation, month=month)


@require_GET
def monthly_report(request: AuthenticatedRequest) -> HttpResponse:
    form, report = _report(request)
    context: dict[str, object] = {"form": form, "report": report}
    if report is not None:
        context["case_tables"] = [
            (_("AMPK category"), report.by_ampk, "report-ampk"),
            (_("Cluster"), report.by_cluster, "report-cluster"),
            (_("Basis"), report.by_basis, "report-basis"),
        ]
        context["referral_tables"] = [
            (_("Sent"), report.referrals_sent, report.referrals_sent_total, "report-referrals-sent"),
            (_("Received"), report.referrals_received, report.referrals_received_total, "report-referrals-received"),
        ]
    return render(request, "atensi/monthly_report.html", context)


@require_GET
def monthly_report_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    form, report = _report(request)
    if report is None:
        # The page says what is wrong with the month.
        return render(request, "atensi/monthly_report.html", {"form": form, "report": None}, status=400)
    return exports.sheets_response(monthly.report_sheets(report), filename=monthly.report_filename(report))


urlpatterns = [
    path("reports/monthly/", monthly_report, name="monthly_report"),
    path("reports/monthly.xlsx", monthly_report_xlsx, name="monthly_report_xlsx"),
]
