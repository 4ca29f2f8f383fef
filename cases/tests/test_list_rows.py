"""The case list's rows written in Python are the markup the template wrote (kept here as
the reference), for every kind of row, in both languages."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from cases.list_rows import case_rows_html
from cases.lists import CaseRow

# The rows as case_list.html wrote them before cases.list_rows.
REFERENCE = "{% load i18n %}" + (Path(__file__).parent / "reference" / "case_rows.html").read_text()


ROWS = [
    CaseRow(
        pk=1,
        number="BA-X/2026/0001",
        organisation="Balai <X>",
        stage="Asesmen",
        stage_code="asesmen",
        masked=False,
        organisation_id=7,
        child='Rina "R" & Co',
        alias="Nana",
        age=12,
        risk="Kritis",
        risk_code="critical",
        case_manager="Dedi",
        regency="Kota Jambi",
        next_due=datetime.date(2026, 12, 1),
        overdue=True,
        opened=datetime.date(2026, 1, 5),
    ),
    CaseRow(
        pk=22,
        number="BA-X/2026/0002",
        organisation="Balai X",
        stage="Intervensi",
        stage_code="intervensi",
        masked=False,
        organisation_id=8,
        confidential=True,
        child="Budi",
        age=3,
        age_estimated=True,
        risk="Tinggi",
        risk_code="high",
        next_due=datetime.date(2026, 12, 24),
        opened=datetime.date(2025, 12, 31),
    ),
    CaseRow(
        pk=333,
        number="BA-X/2026/0003",
        organisation="Balai X",
        stage="Terminasi",
        stage_code="terminasi",
        masked=False,
        organisation_id=7,
        child="Cici",
        age=None,
        risk="Rendah",
        risk_code="low",
        opened=datetime.date(2026, 2, 1),
    ),
    CaseRow(
        pk=4444,
        number="BA-Y/2026/0004",
        organisation="Balai Y",
        stage="Asesmen",
        stage_code="asesmen",
        masked=True,
        organisation_id=9,
    ),
]


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("handover", [False, True])
@pytest.mark.parametrize("many_orgs", [False, True])
def test_the_rows_are_the_templates(language: str, handover: bool, many_orgs: bool) -> None:
    supervised = [7, 9]
    context = {"page": {"rows": ROWS}, "handover": handover, "supervised": supervised, "many_orgs": many_orgs}
    with translation.override(language):
        expected = Template(REFERENCE).render(Context(context))
        written = case_rows_html(ROWS, handover=handover, supervised=supervised, many_orgs=many_orgs)
    assert parse_html(written) == parse_html(expected)
    assert written.count('data-testid="case-row"') == len(ROWS)
