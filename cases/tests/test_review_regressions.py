"""Regressions from the security review of the case file: confidential names in
messages, digits Python will not convert, unlogged views of full records, admin
leaking other organisations' children, and writes racing a closure or a merge."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog
from cases import beneficiaries as beneficiary_services
from cases import records
from cases.models import Beneficiary, Case, CaseNote
from cases.services import case_open
from cases.tests.factories import BeneficiaryFactory, cluster, open_case
from cases.tests.workflow_helpers import close
from stakeholders.tests.factories import member

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def logged_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_opening_a_second_case_does_not_reveal_a_confidential_one(org, owner, colleague, supervisor):
    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Siti Rahasia")
    close(open_case(organisation=org, by=owner, beneficiary=child), owner, supervisor)
    secret = open_case(organisation=org, by=owner, beneficiary=child, is_confidential=True)
    data = {
        "submission_token": str(uuid.uuid4()),
        "organisation": org.pk,
        "cluster": cluster().pk,
        "basis": "keluarga",
        "source": "walk_in",
        "risk_level": "high",
        "summary": "x",
        "case_manager": colleague.pk,
        "supervisor": supervisor.pk,
    }
    response = logged_in(colleague).post(reverse("cases:case_create", args=[child.pk]), data, **EN)
    # The child is hidden from the colleague altogether now...
    assert response.status_code == 404 and secret.number not in response.content.decode()
    # ...and the service, asked directly, names neither the child nor the case.
    with pytest.raises(ApplicationError) as excinfo:
        open_case(organisation=org, by=colleague, beneficiary=child)
    assert str(excinfo.value) == "This child already has an open case at Balai Anak Uji. Ask a supervisor there."
    assert Case.objects.filter(beneficiary=child).count() == 2


@pytest.mark.parametrize("where", ["timeline_cursor", "merge_pair", "not_same_ids"])
def test_superscript_digits_are_not_ids(where, org, owner, supervisor):
    case = open_case(organisation=org, by=owner)
    if where == "timeline_cursor":
        response = logged_in(owner).get(reverse("cases:case_detail", args=[case.pk]) + "?before=%C2%B2")
    elif where == "merge_pair":
        url = reverse("cases:beneficiary_merge") + f"?first=%C2%B2&second={case.beneficiary_id}"
        response = logged_in(supervisor).get(url)
    else:
        response = logged_in(owner).post(reverse("cases:beneficiary_create"), {"not_same": "\u00b2"})
    assert response.status_code in (200, 302, 400, 404)


def test_the_merge_page_and_edit_forms_are_logged_views(org, owner, supervisor):
    a = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Budi Santoso")
    b = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Budi Santosa")
    assert (
        logged_in(supervisor).get(reverse("cases:beneficiary_merge") + f"?first={a.pk}&second={b.pk}").status_code
        == 200
    )
    assert set(AccessLog.objects.filter(user=supervisor).values_list("target_id", flat=True)) == {str(a.pk), str(b.pk)}
    assert logged_in(owner).get(reverse("cases:beneficiary_edit", args=[a.pk])).status_code == 200
    assert AccessLog.objects.filter(user=owner, target_id=str(a.pk)).exists()


def test_admin_does_not_name_records_confirmed_different(org, other_org, owner):
    stranger = member(organisation=other_org, username="stranger")
    theirs = BeneficiaryFactory.create(organisation=other_org, created_by=stranger, full_name="Dewi Orang Lain")
    mine = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Dewi Orang")
    mine.distinct_from.add(theirs)
    staff = member(organisation=org, role="supervisor", username="staffsup")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(Permission.objects.get(codename="view_beneficiary"))
    client = logged_in(staff)
    assert client.get(reverse("admin:cases_beneficiary_change", args=[theirs.pk])).status_code in (302, 404)
    response = client.get(reverse("admin:cases_beneficiary_change", args=[mine.pk]))
    assert response.status_code == 200 and "Dewi Orang Lain" not in response.content.decode()


def test_a_note_sent_as_the_case_closes_is_refused(org, owner, supervisor):
    case = open_case(organisation=org, by=owner)
    stale = Case.objects.get(pk=case.pk)  # the copy the view loaded
    close(case, owner, supervisor)  # another request closes the case meanwhile
    with pytest.raises(ApplicationError):
        records.note_create(case=stale, by=owner, kind="note", occurred_on=timezone.localdate(), narrative="x")
    assert not CaseNote.objects.filter(case=case).exists()


def test_no_case_opens_on_a_record_merged_meanwhile(org, owner, supervisor):
    keep = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Rina Putri")
    gone = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Rina Putri")
    open_case(organisation=org, by=owner, beneficiary=keep)
    stale = Beneficiary.objects.get(pk=gone.pk)  # the copy the open-case form loaded
    beneficiary_services.beneficiary_merge(survivor=keep, merged=gone, by=supervisor, reason="same child")
    with pytest.raises(ApplicationError, match="merged"):
        case_open(organisation=org, beneficiary=stale, opened_by=owner, cluster=cluster(), case_manager=owner)
    assert Case.objects.filter(beneficiary__in=[keep, gone]).count() == 1


def test_an_old_ordinary_case_does_not_reveal_a_child_now_in_a_confidential_case(org, owner, colleague, supervisor):
    from cases.selectors import beneficiaries_visible_to

    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Siti Rahasia")
    close(open_case(organisation=org, by=colleague, beneficiary=child), colleague, supervisor)
    assert beneficiaries_visible_to(colleague).filter(pk=child.pk).exists()
    open_case(organisation=org, by=owner, beneficiary=child, is_confidential=True)
    assert not beneficiaries_visible_to(colleague).filter(pk=child.pk).exists()
    assert beneficiaries_visible_to(owner).filter(pk=child.pk).exists()
    assert beneficiaries_visible_to(supervisor).filter(pk=child.pk).exists()


def test_a_confidential_case_masks_the_same_childs_older_case_in_the_list(org, owner, colleague, supervisor):
    from cases.selectors import cases_visible_to

    child = BeneficiaryFactory.create(organisation=org, created_by=owner, full_name="Siti Rahasia")
    old = open_case(organisation=org, by=colleague, beneficiary=child)
    close(old, colleague, supervisor)
    secret = open_case(organisation=org, by=owner, beneficiary=child, is_confidential=True)
    seen = dict(cases_visible_to(colleague).values_list("pk", "identity_visible"))
    assert seen == {old.pk: False, secret.pk: False}
    assert dict(cases_visible_to(owner).values_list("pk", "identity_visible")) == {old.pk: True, secret.pk: True}
    assert all(dict(cases_visible_to(supervisor).values_list("pk", "identity_visible")).values())
    response = logged_in(colleague).get(reverse("cases:case_list") + "?scope=all", **EN)
    assert "Siti Rahasia" not in response.content.decode()
