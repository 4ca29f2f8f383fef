"""The stakeholders' exports, registered with the portal's export policy (atensi.core.exports):
the organisation directory (public data: not in the access log) and the workforce registry."""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext as _

from atensi.core.exports import ExportSource, Selection, register

from . import directory, workforce
from .models import Organisation, User, WorkforceMember
from .permissions import see_workforce_refusal
from .workforce_forms import WorkforceFilterForm

ORGANISATIONS = "organisations"
WORKFORCE = "workforce"
BY_NAME = (("name", False), ("id", False))


def select_organisations(user: User, params: QueryDict) -> Selection:
    _form, filters, _warnings = directory.directory_filters(params)
    return Selection(queryset=directory.organisation_directory(filters=filters), keys=BY_NAME)


def organisation_rows(user: User, organisations: list[Organisation]) -> list[list[object]]:
    return list(directory.export_rows(organisations))


def select_workforce(user: User, params: QueryDict) -> Selection:
    form = WorkforceFilterForm(params)
    if not form.is_valid():
        # The view refuses a bad filter with a message first; nothing is exported here.
        return Selection(queryset=WorkforceMember.objects.none(), keys=BY_NAME)
    return Selection(queryset=workforce.workforce_filtered(user=user, filters=form.filters()), keys=BY_NAME)


def workforce_rows(user: User, workers: list[WorkforceMember]) -> list[list[object]]:
    return workforce.workforce_rows(user=user, workers=workers)


def _anyone(user: User) -> str | None:
    return None  # the directory is public to every signed-in person


register(
    ExportSource[User](
        name=ORGANISATIONS,
        title=lambda: _("Organisations"),
        filename="organisations",
        refusal=_anyone,
        select=select_organisations,
        headers=directory.export_headers,
        rows=organisation_rows,
    )
)
register(
    ExportSource[User](
        name=WORKFORCE,
        title=lambda: _("Workforce"),
        filename="workforce",
        refusal=see_workforce_refusal,
        select=select_workforce,
        headers=lambda: list(workforce.CSV_HEADER),
        rows=workforce_rows,
        log_label="name",
    )
)
