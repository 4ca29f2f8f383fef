"""An org admin records an MoU with another organisation, uploads the signed PDF, and finds it listed."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from atensi.testing.files import pdf_bytes
from stakeholders.models import Agreement
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MINIMAL_PDF = pdf_bytes()


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


def test_org_admin_records_an_agreement_with_a_pdf_and_sees_it_active(page, org, other_org, tmp_path):
    OrganisationFactory(code="LKSA-LAIN", name="LKSA Tidak Dipilih")
    member(organisation=org, role=Role.ORG_ADMIN, username="admin.org")
    signed = tmp_path / "mou-ditandatangani.pdf"
    signed.write_bytes(MINIMAL_PDF)
    disguised = tmp_path / "foto.pdf"
    disguised.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    today = timezone.localdate()

    login(page, "admin.org", PASSWORD)
    page.goto("/agreements/")
    assert page.get_by_test_id("agreement-empty").is_visible()
    page.get_by_test_id("agreement-new").click()
    page.wait_for_url(f"**/organisations/{org.pk}/agreements/new/")
    page.fill("input[name=number]", "007/MOU/BA-UJI/2026")
    page.fill("input[name=title]", "Rujukan dan pendampingan anak")
    page.fill("textarea[name=scope]", "Rujukan kasus anak antar lembaga")
    page.fill("input[name=signed_on]", (today - datetime.timedelta(days=7)).isoformat())
    page.fill("input[name=valid_from]", (today - datetime.timedelta(days=7)).isoformat())
    page.fill("input[name=valid_until]", (today + datetime.timedelta(days=365)).isoformat())
    # The search box narrows the list of organisations.
    page.fill("#parties-search", "lain")
    assert page.locator("select[name=parties] option:not([hidden])").all_inner_texts() == ["Balai Anak Lain"]
    page.select_option("select[name=parties]", [str(other_org.pk)])

    # A picture renamed .pdf is refused at the field, and nothing is saved.
    page.set_input_files("input[name=document]", str(disguised))
    page.get_by_test_id("agreement-save").click()
    expect(page.locator("#id_document ~ .invalid-feedback, .invalid-feedback").first).to_be_visible()
    assert not Agreement.objects.exists()

    page.select_option("select[name=parties]", [str(other_org.pk)])
    page.set_input_files("input[name=document]", str(signed))
    page.get_by_test_id("agreement-save").click()
    page.wait_for_url("**/agreements/")
    agreement = Agreement.objects.get()
    assert {p.pk for p in agreement.parties.all()} == {org.pk, other_org.pk}
    row = page.get_by_test_id("agreement-row")
    assert row.count() == 1
    assert "007/MOU/BA-UJI/2026" in row.inner_text()
    assert row.get_by_test_id("agreement-status").get_attribute("data-status") == "active"

    # The PDF opens for a member of a party.
    response = page.request.get(f"/agreements/{agreement.pk}/document/")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body() == MINIMAL_PDF
    assert page.csp_violations == []
