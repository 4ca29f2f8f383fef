"""Opening cases: numbering (gap-free under concurrency), who may open, scoping and masking."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from atensi.core.errors import ApplicationError
from cases import beneficiaries as beneficiary_services
from cases.models import Basis, Beneficiary, Case, ReportStatus, TimelineEntry
from cases.selectors import beneficiaries_visible_to, case_get_for_user, cases_visible_to
from cases.services import case_open, occupancy_recount
from cases.tests.factories import BeneficiaryFactory, cluster, open_case, report_for
from cases.tests.workflow_helpers import close
from stakeholders.roles import Role
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db


def test_it_numbers_cases_per_organisation_and_year(org, other_org, owner, outsider):
    first = open_case(organisation=org, by=owner)
    second = open_case(organisation=org, by=owner)
    elsewhere = open_case(organisation=other_org, by=member(organisation=other_org))
    year = timezone.localdate().year
    assert first.number == f"BA-UJI/{year}/0001"
    assert second.number == f"BA-UJI/{year}/0002"
    assert elsewhere.number == f"BA-LAIN/{year}/0001"
    assert TimelineEntry.objects.filter(case=first, kind="opened").count() == 1


def test_a_failed_opening_gives_its_number_back(org, owner, colleague):
    beneficiary = BeneficiaryFactory(organisation=org, created_by=owner)
    open_case(organisation=org, by=owner, beneficiary=beneficiary)
    with pytest.raises(ApplicationError, match="already has an open case"):
        open_case(organisation=org, by=owner, beneficiary=beneficiary)
    # The refused opening used no number: the next one is 0002, not 0003.
    assert open_case(organisation=org, by=owner).sequence == 2


def test_it_refuses_a_second_open_case_for_the_same_child(org, owner):
    beneficiary = BeneficiaryFactory(organisation=org, created_by=owner)
    open_case(organisation=org, by=owner, beneficiary=beneficiary)
    with pytest.raises(ApplicationError):
        open_case(organisation=org, by=owner, beneficiary=beneficiary)
    assert Case.objects.filter(beneficiary=beneficiary).count() == 1


def test_outsider_cannot_open_a_case_here(org, owner, outsider):
    beneficiary = BeneficiaryFactory(organisation=org, created_by=owner)
    with pytest.raises(ApplicationError, match="do not work cases"):
        case_open(organisation=org, beneficiary=beneficiary, opened_by=outsider, cluster=cluster())
    assert not Case.objects.exists()


def test_case_manager_must_work_in_the_organisation(org, owner, outsider):
    with pytest.raises(ApplicationError) as excinfo:
        open_case(organisation=org, by=owner, case_manager=outsider)
    assert excinfo.value.field == "case_manager"
    assert not Case.objects.exists()


def test_opening_from_a_report_claims_it_once(org, owner, supervisor):
    report = report_for(organisation=org, by=owner)
    case = open_case(organisation=org, by=supervisor, report=report, source="community_report")
    report.refresh_from_db()
    assert report.status == ReportStatus.CASE_OPENED
    assert report.triaged_by == supervisor
    assert case.report == report
    with pytest.raises(ApplicationError, match="already triaged"):
        open_case(organisation=org, by=supervisor, report=report)


def test_residential_cases_are_the_occupancy(org, owner):
    org.capacity = 10
    org.occupancy = 7  # a reported figure from before cases were in the portal
    org.save()
    open_case(organisation=org, by=owner, basis=Basis.RESIDENSIAL)
    open_case(organisation=org, by=owner, basis=Basis.KELUARGA)
    org.refresh_from_db()
    assert org.occupancy == 1
    assert occupancy_recount(organisation=org) == 1


class TestScoping:
    def test_outsider_sees_nothing(self, org, owner, outsider):
        case = open_case(organisation=org, by=owner)
        assert not cases_visible_to(outsider).exists()
        assert not beneficiaries_visible_to(outsider).exists()
        with pytest.raises(Http404):  # the same "not found" as for no case at all
            case_get_for_user(user=outsider, case_id=case.pk)

    def test_colleague_sees_an_ordinary_case(self, org, owner, colleague):
        case = open_case(organisation=org, by=owner)
        assert case_get_for_user(user=colleague, case_id=case.pk) == case
        assert beneficiaries_visible_to(colleague).filter(pk=case.beneficiary_id).exists()

    def test_confidential_case_is_masked_for_colleagues(self, org, owner, colleague, supervisor):
        case = open_case(organisation=org, by=owner, is_confidential=True)
        listed = cases_visible_to(colleague).get(pk=case.pk)
        assert listed.identity_visible is False  # the colleague knows it exists...
        with pytest.raises(Http404):  # ...but cannot open it
            case_get_for_user(user=colleague, case_id=case.pk)
        assert not beneficiaries_visible_to(colleague).filter(pk=case.beneficiary_id).exists()
        # The case manager and the organisation's supervisors see who the child is.
        assert cases_visible_to(owner).get(pk=case.pk).identity_visible is True
        assert case_get_for_user(user=supervisor, case_id=case.pk) == case
        assert beneficiaries_visible_to(supervisor).filter(pk=case.beneficiary_id).exists()

    def test_community_reporter_and_org_admin_see_no_cases(self, org, owner, org_admin):
        open_case(organisation=org, by=owner)
        reporter = member(organisation=org, role=Role.COMMUNITY_REPORTER)
        assert not cases_visible_to(reporter).exists()
        assert not cases_visible_to(org_admin).exists()


def test_an_old_ordinary_case_does_not_reveal_a_child_now_in_a_confidential_case(org, owner, colleague, supervisor):
    """Security review: a colleague's closed, ordinary case of the child no longer opens the child's record."""
    from cases.selectors import beneficiaries_visible_to

    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Siti Rahasia")
    close(open_case(organisation=org, by=colleague, beneficiary=child), colleague, supervisor)
    assert beneficiaries_visible_to(colleague).filter(pk=child.pk).exists()
    open_case(organisation=org, by=owner, beneficiary=child, is_confidential=True)
    assert not beneficiaries_visible_to(colleague).filter(pk=child.pk).exists()
    assert beneficiaries_visible_to(owner).filter(pk=child.pk).exists()
    assert beneficiaries_visible_to(supervisor).filter(pk=child.pk).exists()


def test_no_case_opens_on_a_record_merged_meanwhile(org, owner, supervisor):
    """Security review: an open-case form loaded before a merge does not open a case on the merged record."""
    keep = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Rina Putri")
    gone = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Rina Putri")
    open_case(organisation=org, by=owner, beneficiary=keep)
    stale = Beneficiary.objects.get(pk=gone.pk)  # the copy the open-case form loaded
    beneficiary_services.beneficiary_merge(survivor=keep, merged=gone, by=supervisor, reason="same child")
    with pytest.raises(ApplicationError, match="merged"):
        case_open(organisation=org, beneficiary=stale, opened_by=owner, cluster=cluster(), case_manager=owner)
    assert Case.objects.filter(beneficiary__in=[keep, gone]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_openings_get_distinct_gap_free_numbers(org, owner):
    workers = 12
    beneficiaries = [BeneficiaryFactory(organisation=org, created_by=owner) for _ in range(workers)]
    barrier = threading.Barrier(workers)
    numbers: list[int] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                case = open_case(organisation=org, by=owner, beneficiary=beneficiaries[index])
                if index % 4 == 0:
                    # Every fourth opening fails after taking its number: it must give it back.
                    raise RuntimeError("rolled back")
            numbers.append(case.sequence)
        except RuntimeError:
            pass
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stored = sorted(Case.objects.filter(organisation=org).values_list("sequence", flat=True))
    assert stored == list(range(1, len(stored) + 1)) == sorted(numbers)
    assert len(stored) == workers - len(range(0, workers, 4))
