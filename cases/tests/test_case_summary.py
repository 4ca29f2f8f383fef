"""The printable case summary: content as its reader may see it, scoping, the access log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from atensi.core.models import AccessLog
from cases.models import Case, FamilyMember, PlanItemStatus, Relation, Stage
from cases.tests.factories import BeneficiaryFactory, open_case
from cases.tests.test_records import assessment_of, plan_item_of

pytestmark = pytest.mark.django_db

NIK = "1571015505100001"


def summary_url(case):
    return reverse("cases:case_summary", args=[case.pk])


def get(client, case):
    return client.get(summary_url(case), HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def case(org, owner):
    child = BeneficiaryFactory(organisation=org, created_by=owner, full_name="Budi Santoso", nik=NIK)
    case = open_case(organisation=org, by=owner, beneficiary=child, summary="Putus sekolah, bekerja di pasar.")
    FamilyMember.objects.create(beneficiary=child, relation=Relation.MOTHER, name="Sari Rahayu", occupation="Pedagang")
    assessment_of(case, owner, problems="Tidak sekolah sejak kelas 4.", conclusion="Perlu kembali ke sekolah.")
    Case.objects.filter(pk=case.pk).update(stage=Stage.INTERVENSI)
    plan_item_of(case, owner, service="Konseling psikososial")
    plan_item_of(case, owner, service="Pendaftaran sekolah", status=PlanItemStatus.DONE, outcome="Diterima di SDN 12")
    return case


def test_the_summary_shows_the_case_and_is_logged_as_a_print(client_for, case, owner):
    response = get(client_for(owner), case)
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        case.number,
        "Budi Santoso",
        "Sari Rahayu",
        "Putus sekolah, bekerja di pasar.",
        "Tidak sekolah sejak kelas 4.",
        "Perlu kembali ke sekolah.",
        "Konseling psikososial",
        "Diterima di SDN 12",
    ):
        assert text in html, text
    services = response.context["summary"].services
    assert [(service, outcome) for _component, service, _day, outcome in services] == [
        ("Pendaftaran sekolah", "Diterima di SDN 12")
    ]
    # The timeline highlights: the opening, not every plan item.
    kinds = [item.kind for item in response.context["summary"].highlights]
    assert kinds[0] == "opened" and "plan_item" not in kinds
    # A plain page to print: the print stylesheet and the button's script, no inline script.
    assert "css/case-summary.css" in html and "js/case-summary.js" in html
    assert "onclick" not in html
    log = AccessLog.objects.get(action=AccessLog.Action.PRINT)
    assert (log.user_id, log.target_type, log.target_id, log.organisation_id) == (
        owner.pk,
        "cases.case",
        str(case.pk),
        case.organisation_id,
    )


def test_the_case_page_links_to_the_summary(client_for, case, owner):
    html = client_for(owner).get(reverse("cases:case_detail", args=[case.pk])).content.decode()
    assert summary_url(case) in html


def test_only_a_supervisor_of_the_organisation_sees_the_whole_nik(client_for, case, owner, supervisor):
    assert response_nik(get(client_for(supervisor), case)) == NIK
    masked = response_nik(get(client_for(owner), case))
    assert masked != NIK and masked.startswith(NIK[:6]) and masked.endswith(NIK[-4:])


def response_nik(response):
    return response.context["summary"].nik


def test_outsider_gets_404_and_nothing_is_logged(client_for, case, outsider):
    assert get(client_for(outsider), case).status_code == 404
    assert not AccessLog.objects.filter(action=AccessLog.Action.PRINT).exists()


def test_a_confidential_case_prints_only_for_its_case_manager_and_the_supervisors(
    client_for, case, owner, colleague, supervisor
):
    Case.objects.filter(pk=case.pk).update(is_confidential=True)
    assert get(client_for(colleague), case).status_code == 404
    assert get(client_for(owner), case).status_code == 200
    assert get(client_for(supervisor), case).status_code == 200
    assert AccessLog.objects.filter(action=AccessLog.Action.PRINT).count() == 2


def test_the_summary_is_get_only(client_for, case, owner):
    assert client_for(owner).post(summary_url(case)).status_code == 405


def test_an_empty_case_still_prints(client_for, org, owner):
    bare = open_case(organisation=org, by=owner)
    response = get(client_for(owner), bare)
    assert response.status_code == 200
    html = response.content.decode()
    assert "No assessment yet." in html and "No plan yet." in html and "No family member recorded." in html
