"""Community reports (intake): recording and routing, the queue, a report's page, triage
(pass on, dismiss, open a case), "my reports" — scoping, bad input, double submits, races."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse
from django.utils import translation

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog, AmpkCategory
from atensi.core.once import OnceFormMixin
from cases import intake
from cases.models import RecipientVia, Report, ReportChannel, ReportRecipient, ReportStatus, Urgency
from cases.tests.factories import BeneficiaryFactory, open_case, village
from stakeholders.models import OrganisationKind, Region, WorkforceMember
from stakeholders.roles import Role
from stakeholders.tests.factories import MembershipFactory, OrganisationFactory, member

pytestmark = pytest.mark.django_db

TELANAIPURA = "1571011004"  # Kota Jambi
LUBUK_MINTURUN = "1371111002"  # Kota Padang


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def covering(org: Any) -> Any:
    """`org` serves Kota Jambi."""
    org.coverage.add(Region.objects.get(code="1571"))
    return org


@pytest.fixture
def reporter(other_org: Any) -> Any:
    """A PSM of another organisation (their Dinas Sosial), with a workforce record."""
    user = member(organisation=other_org, role=Role.COMMUNITY_REPORTER, username="psm")
    WorkforceMember.objects.create(
        kind="psm",
        name="Yusuf Hidayat",
        nik="1571011208790002",
        phone="0812 3456 7890",
        organisation=other_org,
        user=user,
    )
    return user


@pytest.fixture
def other_reporter(other_org: Any) -> Any:
    return member(organisation=other_org, role=Role.COMMUNITY_REPORTER, username="psm2")


@pytest.fixture
def intake_officer(org: Any) -> Any:
    return member(organisation=org, role=Role.INTAKE_OFFICER, username="intake")


def ampk(code: str = "penelantaran") -> AmpkCategory:
    return AmpkCategory.objects.get(code=code)


def create(by: Any, **fields: Any) -> Report:
    fields.setdefault("village", village(TELANAIPURA))
    fields.setdefault("narrative", "Anak tidur di pasar setiap malam.")
    fields.setdefault("reporter_kind", "psm")
    fields.setdefault("reporter_name", "Yusuf")
    fields.setdefault("ampk_categories", [ampk()])
    return intake.report_create(recorded_by=by, **fields)


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "submission_token": str(uuid.uuid4()),
        "village": TELANAIPURA,
        "child_name": "Dodi",
        "child_sex": "M",
        "child_age": "9",
        "ampk_categories": [str(ampk().pk)],
        "concern": "",
        "urgency": "high",
        "narrative": "Dodi tidur di pasar Angso Duo setiap malam.",
        "location_detail": "Dekat los ikan",
        "reporter_kind": "psm",
        "reporter_name": "Yusuf Hidayat",
        "reporter_phone": "0812 3456 7890",
    }
    data.update(overrides)
    return data


def message_texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def detail_url(report: Report) -> str:
    return reverse("cases:report_detail", args=[report.public_id])


def pass_url(report: Report) -> str:
    return reverse("cases:report_pass", args=[report.public_id])


def dismiss_url(report: Report) -> str:
    return reverse("cases:report_dismiss", args=[report.public_id])


def triage_url(report: Report) -> str:
    return reverse("cases:report_triage", args=[report.public_id])


EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


# --- Recording and routing (service) --------------------------------------------------------------


def test_it_routes_to_every_active_organisation_covering_the_village(covering, other_org, reporter):
    other_org.coverage.add(Region.objects.get(code="15"))
    OrganisationFactory(code="TUTUP", is_active=False).coverage.add(Region.objects.get(code="1571"))
    report = create(reporter)
    rows = {(r.organisation.code, r.via) for r in report.recipients.select_related("organisation")}
    assert rows == {("BA-UJI", RecipientVia.COVERAGE), ("BA-LAIN", RecipientVia.COVERAGE)}
    assert report.status == ReportStatus.NEW
    assert list(report.ampk_categories.all()) == [ampk()]


def test_without_coverage_it_falls_back_to_the_provincial_social_service(org, reporter):
    dinsos = OrganisationFactory(
        code="DINSOS-SUMBAR", kind=OrganisationKind.DINSOS_PROVINSI, home_region=Region.objects.get(code="13")
    )
    OrganisationFactory(  # a provincial service elsewhere does not get it
        code="DINSOS-JAMBI", kind=OrganisationKind.DINSOS_PROVINSI, home_region=Region.objects.get(code="15")
    )
    report = create(reporter, village=village(LUBUK_MINTURUN))
    assert [(r.organisation, r.via) for r in report.recipients.all()] == [(dinsos, RecipientVia.FALLBACK)]


def test_it_refuses_a_report_nobody_can_receive(org, reporter):
    with pytest.raises(ApplicationError, match="No organisation in the portal serves Lubuk Minturun") as excinfo:
        create(reporter, village=village(LUBUK_MINTURUN))
    assert excinfo.value.field == "village"
    assert "Dinas Sosial" in str(excinfo.value)
    assert not Report.objects.exists()


def test_it_needs_a_village_a_concern_and_a_plausible_age(covering, reporter):
    with pytest.raises(ApplicationError, match="Choose the village"):
        create(reporter, village=Region.objects.get(code="157101"))  # a district
    with pytest.raises(ApplicationError, match="tick at least one category"):
        create(reporter, ampk_categories=[], concern="  ")
    with pytest.raises(ApplicationError, match="from 0 to 25"):
        create(reporter, child_age=26)
    with pytest.raises(ApplicationError, match="Describe what happened"):
        create(reporter, narrative=" ")
    assert not Report.objects.exists()
    # A free-text concern is enough, and the child's name may be unknown.
    report = create(reporter, ampk_categories=[], concern="Sering dipukul", child_name="")
    assert report.child_label == "(name unknown)"


def test_a_user_without_a_reporting_role_cannot_report(covering):
    viewer = member(organisation=covering, role=Role.VIEWER)
    with pytest.raises(ApplicationError, match="cannot record reports"):
        create(viewer)
    assert not Report.objects.exists()


def test_only_office_staff_record_walk_in_or_phone_reports(covering, reporter, intake_officer):
    with pytest.raises(ApplicationError, match="Only office staff"):
        create(reporter, channel=ReportChannel.PHONE)
    report = create(intake_officer, channel=ReportChannel.PHONE, reporter_kind="family", reporter_name="Ibu Ani")
    assert report.channel == ReportChannel.PHONE
    assert report.recorded_by == intake_officer


def test_a_psm_reports_as_themselves_by_default(reporter, intake_officer, covering):
    defaults = intake.reporter_defaults(reporter)
    assert (defaults.kind, defaults.name, defaults.phone) == ("psm", "Yusuf Hidayat", "0812 3456 7890")
    # Office staff record for others: nothing prefilled.
    assert intake.reporter_defaults(intake_officer).name == ""


# --- report_create (view) -----------------------------------------------------------------------


def test_reporter_sends_a_report_from_the_form(client_for, covering, reporter):
    client = client_for(reporter)
    page = client.get(reverse("cases:report_create"), **EN)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Yusuf Hidayat"' in html  # prefilled
    assert 'name="channel"' not in html  # a PSM reports from the field
    response = client.post(reverse("cases:report_create"), form_data(), **EN)
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(report)
    assert (report.child_name, report.child_age, report.urgency, report.channel) == ("Dodi", 9, "high", "field")
    assert report.recorded_by == reporter
    assert report.recipients.get().organisation == covering
    assert any("was sent to Balai Anak Uji" in m for m in message_texts(response))


def test_intake_officer_records_a_phone_report(client_for, covering, intake_officer):
    client = client_for(intake_officer)
    assert 'name="channel"' in client.get(reverse("cases:report_create")).content.decode()
    data = form_data(channel="phone", reporter_kind="family", reporter_name="Ibu Ani", reporter_phone="")
    assert client.post(reverse("cases:report_create"), data).status_code == 302
    report = Report.objects.get()
    assert (report.channel, report.reporter_kind, report.reporter_name) == ("phone", "family", "Ibu Ani")


def test_report_form_with_bad_input_explains_and_saves_nothing(client_for, covering, reporter):
    client = client_for(reporter)
    data = form_data(village="", child_age="31", ampk_categories=[], concern="", narrative="", reporter_phone="12")
    response = client.post(reverse("cases:report_create"), data, **EN)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"village", "child_age", "concern", "narrative", "reporter_phone"}
    assert "Choose the village" in str(errors["village"])
    assert "from 0 to 25" in str(errors["child_age"])
    assert not Report.objects.exists()


def test_report_form_shows_the_routing_refusal_at_the_village(client_for, org, reporter):
    response = client_for(reporter).post(reverse("cases:report_create"), form_data(village=LUBUK_MINTURUN), **EN)
    assert response.status_code == 200
    assert "call the Dinas Sosial" in str(response.context["form"].errors["village"])
    assert not Report.objects.exists()


def test_unknown_village_code_is_a_form_error(client_for, covering, reporter):
    response = client_for(reporter).post(reverse("cases:report_create"), form_data(village="9999999999"), **EN)
    assert response.status_code == 200
    assert "Unknown region code" in str(response.context["form"].errors["village"])
    assert not Report.objects.exists()


def test_double_submitted_report_is_saved_once(client_for, covering, reporter):
    client = client_for(reporter)
    data = form_data()
    assert client.post(reverse("cases:report_create"), data).status_code == 302
    second = client.post(reverse("cases:report_create"), data, **EN)
    assert second.status_code == 302
    assert second["Location"] == reverse("cases:report_mine")
    assert any("already saved" in m for m in message_texts(second))
    assert Report.objects.count() == 1
    assert ReportRecipient.objects.count() == 1


def test_a_refused_report_does_not_use_up_its_token(client_for, org, reporter):
    client = client_for(reporter)
    data = form_data(village=LUBUK_MINTURUN)
    assert client.post(reverse("cases:report_create"), data).status_code == 200
    org.coverage.add(Region.objects.get(code="13"))
    assert client.post(reverse("cases:report_create"), data).status_code == 302
    assert Report.objects.count() == 1


def test_report_form_is_refused_without_a_reporting_role(client_for, covering):
    viewer = member(organisation=covering, role=Role.VIEWER)
    client = client_for(viewer)
    assert client.get(reverse("cases:report_create")).status_code == 403
    assert client.post(reverse("cases:report_create"), form_data()).status_code == 403
    assert not Report.objects.exists()


def test_the_form_token_is_fresh_on_every_page(client_for, covering, reporter):
    client = client_for(reporter)
    tokens = {client.get(reverse("cases:report_create")).context["form"]["submission_token"].value() for _ in range(2)}
    assert len(tokens) == 2
    assert issubclass(type(client.get(reverse("cases:report_create")).context["form"]), OnceFormMixin)


# --- The queue --------------------------------------------------------------------------------------


def test_queue_lists_emergencies_first_then_oldest(client_for, covering, supervisor, reporter):
    normal_old = create(reporter, urgency=Urgency.NORMAL, child_name="Normal lama")
    high = create(reporter, urgency=Urgency.HIGH, child_name="Tinggi")
    normal_new = create(reporter, urgency=Urgency.NORMAL, child_name="Normal baru")
    emergency = create(reporter, urgency=Urgency.EMERGENCY, child_name="Darurat")
    dismissed = create(reporter, child_name="Sudah ditolak")
    intake.report_dismiss(report=dismissed, by=supervisor, reason="Duplikat")
    response = client_for(supervisor).get(reverse("cases:report_queue"), **EN)
    assert response.status_code == 200
    shown = [report for report, _label in response.context["rows"]]
    assert shown == [emergency, high, normal_old, normal_new]
    assert response.context["count"] == 4
    html = response.content.decode()
    assert "Telanaipura, Telanaipura, Kota Jambi, Jambi" in html
    assert 'data-testid="queue-count">4<' in html
    assert "Sudah ditolak" not in html


def test_queue_shows_nothing_of_other_organisations(client_for, covering, other_org, reporter):
    create(reporter)
    elsewhere = member(organisation=other_org, role=Role.SUPERVISOR)
    response = client_for(elsewhere).get(reverse("cases:report_queue"))
    assert response.status_code == 200
    assert response.context["count"] == 0
    assert 'data-testid="queue-empty"' in response.content.decode()


def test_queue_is_refused_to_reporters_and_social_workers(client_for, covering, reporter, owner, outsider):
    create(reporter)
    for user in (reporter, owner, outsider):
        assert client_for(user).get(reverse("cases:report_queue")).status_code == 403


def test_queue_query_count_does_not_grow_with_reports(
    client_for, covering, supervisor, reporter, django_assert_max_num_queries
):
    categories = list(AmpkCategory.objects.all()[:3])
    for i in range(40):
        create(
            reporter,
            urgency=[Urgency.EMERGENCY, Urgency.HIGH, Urgency.NORMAL][i % 3],
            ampk_categories=categories[: 1 + i % 3],
            child_name=f"Anak {i}",
        )
    client = client_for(supervisor)
    client.get(reverse("cases:report_queue"))  # warm the session
    # session, user, roles, count, reports, categories, recipients (+2 spare for the navigation)
    with django_assert_max_num_queries(9):
        response = client.get(reverse("cases:report_queue"))
    assert len(response.context["rows"]) == 40


# --- A report's page ---------------------------------------------------------------------------------


def test_queue_member_sees_everything_and_the_view_is_logged(client_for, covering, supervisor, reporter):
    report = create(reporter, reporter_phone="0812 3456 7890")
    response = client_for(supervisor).get(detail_url(report), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="triage-actions"' in html
    assert "tel:081234567890" in html
    assert 'data-testid="report-recipients"' in html
    assert AccessLog.objects.filter(user=supervisor, target_id=str(report.pk), action="view").count() == 1


def test_reporter_sees_their_report_and_its_status_only(client_for, covering, supervisor, reporter):
    report = create(reporter)
    client = client_for(reporter)
    response = client.get(detail_url(report), **EN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Waiting to be looked at by:" in html and "Balai Anak Uji" in html
    assert 'data-testid="triage-actions"' not in html
    assert 'data-testid="report-recipients"' not in html
    assert not AccessLog.objects.filter(user=reporter).exists()
    intake.report_dismiss(report=report, by=supervisor, reason="Anak sudah ditangani keluarga.")
    html = client.get(detail_url(report), **EN).content.decode()
    assert "Dismissed by Balai Anak Uji." in html
    assert "Anak sudah ditangani keluarga." in html


def test_reporter_learns_a_case_was_opened_but_nothing_of_the_case(client_for, covering, supervisor, reporter):
    report = create(reporter)
    case = open_case(organisation=covering, by=supervisor, report=report, source="community_report")
    html = client_for(reporter).get(detail_url(report), **EN).content.decode()
    assert "Balai Anak Uji took up the report and opened a case" in html
    assert case.number not in html
    assert case.beneficiary.full_name not in html
    # The supervisor sees which case came of it.
    assert case.number in client_for(supervisor).get(detail_url(report)).content.decode()


def test_another_reporter_and_outsiders_get_404(client_for, covering, reporter, other_reporter, outsider, owner):
    report = create(reporter)
    for user in (other_reporter, outsider, owner):
        assert client_for(user).get(detail_url(report)).status_code == 404
    assert client_for(reporter).get("/reports/not-a-uuid/").status_code == 404
    assert client_for(reporter).get(reverse("cases:report_detail", args=[uuid.uuid4()])).status_code == 404


# --- Pass on ------------------------------------------------------------------------------------------


def test_supervisor_passes_a_report_to_another_organisation(client_for, covering, other_org, supervisor, reporter):
    report = create(reporter)
    response = client_for(supervisor).post(
        pass_url(report), {"organisation": "BA-LAIN", "note": "Anak tinggal di wilayah mereka."}, **EN
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:report_queue")
    own = ReportRecipient.objects.get(report=report, organisation=covering)
    new = ReportRecipient.objects.get(report=report, organisation=other_org)
    assert own.passed_on_at is not None
    assert (new.via, new.passed_by, new.note, new.passed_on_at) == (
        RecipientVia.PASSED,
        supervisor,
        "Anak tinggal di wilayah mereka.",
        None,
    )
    assert not intake.report_queue(supervisor).exists()
    there = member(organisation=other_org, role=Role.INTAKE_OFFICER)
    assert list(intake.report_queue(there)) == [report]
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW


def test_pass_accepts_a_typed_code(client_for, covering, supervisor, reporter):
    OrganisationFactory(code="LKSA-JAUH", name="LKSA Jauh")
    report = create(reporter)
    response = client_for(supervisor).post(pass_url(report), {"organisation_code": "lksa-jauh", "note": "Cocok."})
    assert response.status_code == 302
    assert report.recipients.filter(organisation__code="LKSA-JAUH", via="passed").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"organisation": "BA-UJI", "note": "x"}, "already with Balai Anak Uji"),
        ({"organisation": "TUTUP", "note": "x"}, "is not active in the portal"),
        ({"organisation": "BA-LAIN", "note": "x"}, "already received this report"),
        ({"organisation_code": "TIDAK-ADA", "note": "x"}, "No organisation has the code TIDAK-ADA"),
        ({"organisation": "", "note": "x"}, "Choose the organisation"),
        ({"organisation": "LKSA-JAUH", "note": " "}, "Write a note"),
    ],
)
def test_pass_with_bad_input_explains_and_changes_nothing(
    client_for, covering, other_org, supervisor, reporter, data, message
):
    OrganisationFactory(code="TUTUP", is_active=False)
    OrganisationFactory(code="LKSA-JAUH")
    other_org.coverage.add(Region.objects.get(code="15"))  # BA-LAIN got it by coverage too
    report = create(reporter)
    before = sorted(ReportRecipient.objects.values_list("organisation__code", "passed_on_at"))
    response = client_for(supervisor).post(pass_url(report), data, **EN)
    assert response.status_code == 302
    assert response["Location"] == detail_url(report)
    assert any(message in m and "Nothing was changed." in m for m in message_texts(response)), message_texts(response)
    assert sorted(ReportRecipient.objects.values_list("organisation__code", "passed_on_at")) == before
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW


def test_pass_and_dismiss_are_post_only(client_for, covering, supervisor, reporter):
    report = create(reporter)
    client = client_for(supervisor)
    assert client.get(pass_url(report)).status_code == 405
    assert client.get(dismiss_url(report)).status_code == 405
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW


def test_outsiders_and_the_reporter_cannot_pass_or_dismiss(client_for, covering, other_org, reporter, outsider):
    report = create(reporter)
    elsewhere = member(organisation=other_org, role=Role.SUPERVISOR)
    for user in (outsider, elsewhere, reporter):
        client = client_for(user)
        assert client.post(pass_url(report), {"organisation": "BA-LAIN", "note": "x"}).status_code == 404
        assert client.post(dismiss_url(report), {"reason": "x"}).status_code == 404
        assert client.get(triage_url(report)).status_code == 404
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW
    assert ReportRecipient.objects.filter(report=report).count() == 1


def test_after_passing_on_the_organisation_can_no_longer_triage(client_for, covering, other_org, supervisor, reporter):
    report = create(reporter)
    intake.report_pass(report=report, by=supervisor, to=other_org, note="Wilayah mereka.")
    response = client_for(supervisor).post(dismiss_url(report), {"reason": "Terlambat"}, **EN)
    assert any("not waiting in an intake queue you triage" in m for m in message_texts(response))
    report.refresh_from_db()
    assert report.status == ReportStatus.NEW
    # They still see where it went.
    html = client_for(supervisor).get(detail_url(report)).content.decode()
    assert "Balai Anak Lain" in html and 'data-testid="triage-actions"' not in html


def test_a_user_triaging_for_two_recipients_chooses_which_one_acts(client_for, covering, other_org, reporter):
    other_org.coverage.add(Region.objects.get(code="15"))
    both = member(organisation=covering, role=Role.SUPERVISOR, username="dua")
    MembershipFactory(user=both, organisation=other_org, role=Role.INTAKE_OFFICER)
    report = create(reporter)
    client = client_for(both)
    html = client.get(detail_url(report)).content.decode()
    assert 'name="acting"' in html and "<select" in html
    response = client.post(dismiss_url(report), {"reason": "Sudah aman", "acting": str(other_org.pk)})
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.triaged_for) == (ReportStatus.DISMISSED, other_org)


# --- Dismiss -------------------------------------------------------------------------------------------


def test_intake_officer_dismisses_a_report_with_a_reason(client_for, covering, intake_officer, reporter):
    report = create(reporter)
    response = client_for(intake_officer).post(dismiss_url(report), {"reason": "Laporan ganda."}, **EN)
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.status, report.dismissal_reason, report.triaged_by, report.triaged_for) == (
        ReportStatus.DISMISSED,
        "Laporan ganda.",
        intake_officer,
        covering,
    )
    assert report.triaged_at is not None


def test_dismiss_without_a_reason_changes_nothing(client_for, covering, supervisor, reporter):
    report = create(reporter)
    response = client_for(supervisor).post(dismiss_url(report), {"reason": "  "}, **EN)
    assert response.status_code == 302
    assert any("Say why the report is dismissed" in m for m in message_texts(response))
    report.refresh_from_db()
    assert (report.status, report.dismissal_reason, report.triaged_by) == (ReportStatus.NEW, "", None)


def test_a_decided_report_cannot_be_dismissed_again(client_for, covering, supervisor, intake_officer, reporter):
    report = create(reporter)
    intake.report_dismiss(report=report, by=supervisor, reason="Duplikat")
    response = client_for(intake_officer).post(dismiss_url(report), {"reason": "Juga duplikat"}, **EN)
    assert any("already triaged by someone else" in m for m in message_texts(response))
    report.refresh_from_db()
    assert (report.dismissal_reason, report.triaged_by) == ("Duplikat", supervisor)


@pytest.mark.django_db(transaction=True)
def test_two_triagers_dismissing_at_once_one_wins(org):
    org.coverage.add(Region.objects.get(code="1571"))
    reporter = member(organisation=org, role=Role.COMMUNITY_REPORTER)
    triagers = [member(organisation=org, role=Role.SUPERVISOR), member(organisation=org, role=Role.INTAKE_OFFICER)]
    report = create(reporter)
    barrier = threading.Barrier(len(triagers))
    won: list[Any] = []
    lost: list[str] = []
    errors: list[BaseException] = []

    def run(user: Any) -> None:
        try:
            mine = Report.objects.get(pk=report.pk)
            barrier.wait()
            with translation.override("en"):  # each thread has its own active language
                intake.report_dismiss(report=mine, by=user, reason=f"Alasan {user.username}")
            won.append(user)
        except ApplicationError as exc:
            lost.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(u,)) for u in triagers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(won) == 1
    assert lost == ["This report was already triaged by someone else."]
    report.refresh_from_db()
    assert report.status == ReportStatus.DISMISSED
    assert report.triaged_by == won[0]
    assert report.dismissal_reason == f"Alasan {won[0].username}"


# --- Open a case (triage page) ----------------------------------------------------------------------------


def test_triage_page_finds_existing_children_and_offers_a_new_one(client_for, covering, owner, supervisor, reporter):
    known = BeneficiaryFactory(organisation=covering, created_by=owner, full_name="Dodi Saputra")
    BeneficiaryFactory(organisation=covering, created_by=owner, full_name="Rina Lestari")
    elsewhere = BeneficiaryFactory(
        organisation=OrganisationFactory(code="JAUH"), created_by=owner, full_name="Dodi Lain"
    )
    report = create(reporter, child_name="Dodi")
    response = client_for(supervisor).get(triage_url(report), **EN)
    assert response.status_code == 200
    assert [b for b, _label in response.context["results"]] == [known]  # prefilled with the reported name
    html = response.content.decode()
    pick = reverse("cases:case_create", args=[known.pk]) + f"?report={report.public_id}"
    assert f'href="{pick}"' in html
    assert f'href="{reverse("cases:beneficiary_search")}?report={report.public_id}"' in html
    assert elsewhere.full_name not in html
    searched = client_for(supervisor).get(triage_url(report), {"q": "lestari"})
    assert [b.full_name for b, _label in searched.context["results"]] == ["Rina Lestari"]
    assert AccessLog.objects.filter(user=supervisor, target_id=str(report.pk)).exists()


def test_triage_page_of_a_decided_report_goes_back_to_the_report(client_for, covering, supervisor, reporter):
    report = create(reporter)
    open_case(organisation=covering, by=supervisor, report=report, source="community_report")
    response = client_for(supervisor).get(triage_url(report), **EN)
    assert response.status_code == 302
    assert response["Location"] == detail_url(report)
    assert any("no longer waiting" in m for m in message_texts(response))


def test_opening_a_case_takes_the_report_out_of_the_queue(covering, supervisor, reporter):
    report = create(reporter)
    open_case(organisation=covering, by=supervisor, report=report, source="community_report")
    assert not intake.report_queue(supervisor).exists()
    with pytest.raises(ApplicationError, match="already triaged"):
        intake.report_dismiss(report=report, by=supervisor, reason="x")


# --- My reports ------------------------------------------------------------------------------------------------


def test_my_reports_lists_only_my_own_newest_first(client_for, covering, reporter, other_reporter):
    first = create(reporter, child_name="Pertama")
    second = create(reporter, child_name="Kedua")
    create(other_reporter, child_name="Punya orang lain")
    response = client_for(reporter).get(reverse("cases:report_mine"), **EN)
    assert response.status_code == 200
    assert response.context["page"].rows == [second, first]
    html = response.content.decode()
    assert "Punya orang lain" not in html
    assert 'data-status="new"' in html


def test_my_reports_pages_by_25_with_a_cursor(client_for, covering, reporter):
    for i in range(30):
        create(reporter, child_name=f"Anak {i:02d}")
    client = client_for(reporter)
    first = client.get(reverse("cases:report_mine"))
    page = first.context["page"]
    assert len(page.rows) == 25 and page.rows[0].child_name == "Anak 29"
    assert page.next_cursor
    second = client.get(reverse("cases:report_mine"), {"after": page.next_cursor})
    assert [r.child_name for r in second.context["page"].rows] == [f"Anak {i:02d}" for i in range(4, -1, -1)]
    assert second.context["page"].next_cursor is None
    # A forged cursor is just the first page.
    assert len(client.get(reverse("cases:report_mine"), {"after": "forged"}).context["page"].rows) == 25


def test_my_reports_query_count(client_for, covering, supervisor, reporter, django_assert_max_num_queries):
    for i in range(30):
        report = create(reporter, ampk_categories=list(AmpkCategory.objects.all()[: 1 + i % 3]))
        if i % 5 == 0:
            intake.report_dismiss(report=report, by=supervisor, reason="Duplikat")
    client = client_for(reporter)
    client.get(reverse("cases:report_mine"))
    # session, user, roles, reports, categories (+2 spare for the navigation)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("cases:report_mine"))
    assert len(response.context["page"].rows) == 25
