"""The monthly report's page (printable: the browser's "save as PDF" gives a clean A4) and
its workbook: ?organisation=<id>&month=YYYY-MM for an organisation's supervisors and org
admins, ?region=<code>&month=YYYY-MM for whoever reads a province's or kab/kota's figures
(a Dinas Sosial covering it, a national organisation). An organisation or a region the
user does not read is not found; a bad or future month is a message on the form."""

from __future__ import annotations

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from atensi.core import exports
from atensi.core.access import get_or_404
from atensi.core.disclosure import Disclosure
from atensi.core.errors import ApplicationError
from stakeholders.http import AuthenticatedRequest
from stakeholders.permissions import figure_scope_for
from stakeholders.selectors import organisations_reportable_by, report_region_get, report_regions

from . import monthly


class MonthlyReportForm(forms.Form):
    """What the page offers: the user's organisations and regions in one list, and a month."""

    subject = forms.ChoiceField(label=gettext_lazy("Organisation or region"))
    month = forms.CharField(
        label=gettext_lazy("Month"),
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
        help_text=gettext_lazy("Whole months, in the organisation's or the province's own time zone."),
    )

    def __init__(self, *args: object, subjects: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["subject"].choices = subjects  # type: ignore[attr-defined]


def _subject(request: AuthenticatedRequest) -> tuple[monthly.Scope, Disclosure, list[tuple[str, str]], str]:
    """Whose report the request asks for, how its figures are shown, and what the form offers."""
    organisations = list(organisations_reportable_by(request.user))
    figures = figure_scope_for(request.user)
    regions = report_regions(figures)
    subjects = [(f"organisation:{o.pk}", o.name) for o in organisations] + [
        (f"region:{r.code}", r.name) for r in regions
    ]
    if not subjects:
        raise Http404
    wanted_org = request.GET.get("organisation")
    wanted_region = request.GET.get("region")
    subject = request.GET.get("subject")  # the form's one list: "organisation:<id>" or "region:<code>"
    if subject is not None:
        kind, _sep, value = subject.partition(":")
        if kind == "organisation":
            wanted_org = value
        elif kind == "region":
            wanted_region = value
        else:
            raise Http404
    if wanted_region is not None:
        region = report_region_get(figures=figures, code=wanted_region)
        return monthly.region_scope(region), figures.region_disclosure, subjects, f"region:{region.code}"
    if wanted_org is not None or organisations:
        organisation = (
            get_or_404(organisations_reportable_by(request.user), pk=wanted_org)
            if wanted_org is not None
            else organisations[0]
        )
        disclosure = figures.organisation_disclosure(organisation.pk)
        return monthly.organisation_scope(organisation), disclosure, subjects, f"organisation:{organisation.pk}"
    return monthly.region_scope(regions[0]), figures.region_disclosure, subjects, f"region:{regions[0].code}"


def _report(request: AuthenticatedRequest) -> tuple[MonthlyReportForm, monthly.ShownReport | None]:
    scope, disclosure, subjects, chosen = _subject(request)
    today = monthly.today_in(scope)
    month_text = request.GET.get("month") or monthly.previous_month(today).value
    form = MonthlyReportForm({"subject": chosen, "month": month_text}, subjects=subjects)
    form.is_valid()
    try:
        month = monthly.parse_month(month_text, today=today)
    except ApplicationError as error:
        form.add_error(error.field, str(error))
        return form, None
    return form, monthly.shown_report(monthly.monthly_report(scope=scope, month=month), disclosure)


@require_GET
def monthly_report(request: AuthenticatedRequest) -> HttpResponse:
    form, shown = _report(request)
    return render(request, "atensi/monthly_report.html", {"form": form, "shown": shown})


@require_GET
def monthly_report_xlsx(request: AuthenticatedRequest) -> HttpResponse:
    form, shown = _report(request)
    if shown is None:
        # The page says what is wrong with the month.
        return render(request, "atensi/monthly_report.html", {"form": form, "shown": None}, status=400)
    return exports.sheets_response(monthly.report_sheets(shown), filename=monthly.report_filename(shown.report))


urlpatterns = [
    path("reports/monthly/", monthly_report, name="monthly_report"),
    path("reports/monthly.xlsx", monthly_report_xlsx, name="monthly_report_xlsx"),
]
