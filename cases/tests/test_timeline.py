"""The timeline as the reader sees it: every kind in words, in the reader's language,
newest first, robust to entries it does not know, and cheap to read."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone, translation

from cases.models import Case, TimelineEntry, TimelineKind
from cases.services import timeline_add
from cases.tests.factories import open_case
from cases.timeline import timeline_for, timeline_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(org: Any, owner: Any) -> Case:
    return open_case(organisation=org, by=owner, source="police")


def only(case: Case, user: Any, kind: str, **data: Any) -> Any:
    TimelineEntry.objects.filter(case=case).delete()
    timeline_add(case=case, kind=kind, actor=user, **data)
    [item] = timeline_for(case=case, user=user)
    return item


@pytest.mark.parametrize(
    ("kind", "data", "text", "detail"),
    [
        ("opened", {"source": "police"}, "Case opened (source: Police)", ""),
        (
            "stage",
            {"from_stage": "asesmen", "to_stage": "perencanaan", "note": ""},
            "Moved to Intervention planning",
            "",
        ),
        (
            "stage",
            {"from_stage": "intervensi", "to_stage": "asesmen", "note": "Perlu asesmen ulang."},
            "Moved back from Intervention to Assessment",
            "Perlu asesmen ulang.",
        ),
        (
            "stage",
            {"from_stage": "bimbingan_lanjut", "to_stage": "closed", "note": "Selesai.", "closure_reason": "goals_met"},
            "Case closed: Goals met",
            "Selesai.",
        ),
        (
            "stage",
            {"from_stage": "closed", "to_stage": "asesmen", "note": "Lagi."},
            "Case reopened at Assessment",
            "Lagi.",
        ),
        (
            "assigned",
            {"case_manager": "Rina Peksos", "supervisor": ""},
            "Assigned — case manager: Rina Peksos; supervisor: nobody",
            "",
        ),
        (
            "updated",
            {"fields": ["risk_level", "is_confidential"]},
            "Case details changed: risk level, confidential",
            "",
        ),
        ("note", {"note_kind": "home_visit", "occurred_on": "2026-03-05"}, "Home visit on March 5, 2026", ""),
        ("assessment", {"action": "created", "assessed_on": "2026-03-06"}, "Assessment recorded (March 6, 2026)", ""),
        ("assessment", {"action": "edited", "assessed_on": "2026-03-06"}, "Assessment of March 6, 2026 edited", ""),
        (
            "plan_item",
            {
                "action": "created",
                "component": "dukungan_keluarga",
                "service": "Konseling keluarga",
                "status": "planned",
            },
            "Plan item added: Konseling keluarga (Family support · Planned)",
            "",
        ),
        ("approval_requested", {"approval_kind": "plan"}, "Asked a supervisor to approve the intervention plan", ""),
        ("approval_requested", {"approval_kind": "closure"}, "Asked a supervisor to approve closing the case", ""),
        (
            "approval_decided",
            {"approval_kind": "plan", "status": "approved", "comment": ""},
            "Intervention plan approved",
            "",
        ),
        (
            "approval_decided",
            {"approval_kind": "closure", "status": "rejected", "comment": "Belum waktunya."},
            "Case closure not approved",
            "Belum waktunya.",
        ),
        (
            "approval_decided",
            {"approval_kind": "plan", "status": "withdrawn", "comment": ""},
            "Request for approval withdrawn: Intervention plan",
            "",
        ),
        (
            "document",
            {"title": "Akta kelahiran", "doc_kind": "akta"},
            "Document added: Akta kelahiran (Birth certificate (akta))",
            "",
        ),
        ("consent", {"action": "given", "given_by_name": "Ibu Sari"}, "Consent given by Ibu Sari", ""),
        ("consent", {"action": "withdrawn", "given_by_name": "Ibu Sari"}, "Consent given by Ibu Sari withdrawn", ""),
        (
            "consent",
            {"action": "override", "organisation": "Dinas Sosial Kota Jambi"},
            "Emergency sharing with Dinas Sosial Kota Jambi without consent (supervisor's decision)",
            "",
        ),
        (
            "follow_up",
            {"action": "created", "follow_up_kind": "aftercare", "due_on": "2026-03-30"},
            "Follow-up planned: Aftercare monitoring, due March 30, 2026",
            "",
        ),
        (
            "follow_up",
            {"action": "done", "follow_up_kind": "home_visit", "due_on": "2026-03-30"},
            "Follow-up done: Home visit (due March 30, 2026)",
            "",
        ),
        (
            "follow_up",
            {
                "action": "missed",
                "follow_up_kind": "home_visit",
                "due_on": "2026-03-30",
                "reason": "The case was closed.",
            },
            "Follow-up missed: Home visit (due March 30, 2026)",
            "The case was closed.",
        ),
        (
            "merge",
            {"merged_id": 7, "merged_name": "Budi S."},
            "A duplicate record (Budi S.) was merged into this child's record",
            "",
        ),
        ("referral", {}, "Referral", ""),
        (
            "consent",
            {"action": "given", "given_by_name": "Ibu Sari", "organisations": ["Dinsos Jambi", "LKSA Harapan"]},
            "Consent given by Ibu Sari",
            "May be shared with: Dinsos Jambi, LKSA Harapan.",
        ),
        (
            "consent",
            {"action": "withdrawn", "given_by_name": "Ibu Sari", "withdrawn_on": "2026-03-02"},
            "Consent given by Ibu Sari withdrawn",
            "Withdrawn on March 2, 2026.",
        ),
        (
            "plan_item",
            {"action": "edited", "component": "terapi", "service": "Terapi", "status": "done", "provider": "RS Jiwa"},
            "Plan item changed: Terapi (Physical, psychosocial and mental-spiritual therapy"
            " · Done · provided by RS Jiwa)",
            "",
        ),
        (
            "follow_up",
            {"action": "created", "follow_up_kind": "home_visit", "due_on": "2026-03-30", "assignee": "Rina"},
            "Follow-up planned: Home visit, due March 30, 2026, for Rina",
            "",
        ),
    ],
)
def test_every_kind_reads_as_a_sentence(case, owner, kind, data, text, detail):
    item = only(case, owner, kind, **data)
    assert (item.text, item.detail) == (text, detail)
    assert item.kind_label
    assert item.actor_name == owner.get_full_name()
    assert item.by_reader


def test_unknown_kinds_keys_and_values_never_break_it(case, owner, colleague):
    TimelineEntry.objects.create(case=case, kind="teleport", data={"x": 1})
    TimelineEntry.objects.create(case=case, kind=TimelineKind.STAGE, data=["not", "a", "dict"])
    TimelineEntry.objects.create(case=case, kind=TimelineKind.NOTE, data={"note_kind": "dance", "occurred_on": "soon"})
    TimelineEntry.objects.create(
        case=case, kind=TimelineKind.FOLLOW_UP, data={"due_on": {"a": 1}, "follow_up_kind": None, "extra": [1]}
    )
    TimelineEntry.objects.create(case=case, kind=TimelineKind.UPDATED, data={"fields": ["no_such_field", 3]})
    TimelineEntry.objects.create(case=case, kind=TimelineKind.PLAN_ITEM, data={"component": "unknown-code"})
    items = {i.kind: i for i in timeline_for(case=case, user=colleague)}
    assert items["teleport"].text == "teleport"
    assert items["stage"].text == "Stage changed"
    assert items["note"].text == "dance on soon"
    assert items["follow_up"].text.startswith("Follow-up planned: Follow-up")
    assert items["updated"].text == "Case details changed: no_such_field, 3"
    assert items["plan_item"].text == "Plan item added: a service (unknown-code)"
    assert items["teleport"].actor_name == "the portal"
    assert not items["teleport"].by_reader


def test_newest_first_with_who_and_when(case, owner, supervisor):
    now = timezone.now()
    timeline_add(case=case, kind=TimelineKind.NOTE, actor=owner, at=now - datetime.timedelta(days=2), note_kind="phone")
    timeline_add(case=case, kind=TimelineKind.NOTE, actor=supervisor, at=now, note_kind="office")
    items = timeline_for(case=case, user=owner)
    assert [i.text for i in items[:2]] == ["Office meeting", "Case opened (source: Police)"]
    assert items[0].actor_name == supervisor.get_full_name()
    assert items[-1].text == "Phone call"
    assert items[-1].at < items[0].at


def test_the_reference_names_follow_the_readers_language(case, owner):
    timeline_add(
        case=case, kind=TimelineKind.PLAN_ITEM, actor=owner, component="dukungan_keluarga", service="Konseling"
    )
    with translation.override("id"):
        assert "Dukungan keluarga" in timeline_for(case=case, user=owner)[0].text
    with translation.override("en"):
        assert "Family support" in timeline_for(case=case, user=owner)[0].text


def test_one_query_for_entries_and_actors(case, owner, supervisor, colleague, django_assert_num_queries):
    for user in (owner, supervisor, colleague) * 5:
        timeline_add(case=case, kind=TimelineKind.NOTE, actor=user, note_kind="phone")
    with django_assert_num_queries(1):
        items = timeline_for(case=case, user=owner)
        assert {i.actor_name for i in items} >= {owner.get_full_name(), supervisor.get_full_name()}
    timeline_add(case=case, kind=TimelineKind.PLAN_ITEM, actor=owner, component="terapi", service="x")
    with django_assert_num_queries(2):  # and the component names
        timeline_for(case=case, user=owner)


def test_pages_follow_each_other_without_gaps_or_repeats(case, owner):
    same_moment = timezone.now()
    for n in range(7):
        timeline_add(case=case, kind=TimelineKind.NOTE, actor=owner, at=same_moment, note_kind="phone", n=n)
    seen: list[int] = []
    page = timeline_page(case=case, user=owner, limit=3)
    while True:
        seen.extend(i.pk for i in page.items)
        if page.older_before is None:
            break
        page = timeline_page(case=case, user=owner, limit=3, before=page.older_before)
    assert len(seen) == len(set(seen)) == TimelineEntry.objects.filter(case=case).count() == 8
    # An id of another case is no cursor.
    assert timeline_for(case=case, user=owner, before=10**9) == []
