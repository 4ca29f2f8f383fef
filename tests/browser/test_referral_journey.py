"""The acceptance journeys of referrals and transfers, on the demo data.

1. A social worker of Balai Anak "Alyatama" records the grandmother's consent to share
   with Dinas Sosial Provinsi Jambi and refers a Jambi child there for family support.
   The Dinas Sosial referral officer sees it in the inbox (navigation and notification
   counts), decides on the minimum (first name, age, sex, kab/kota), accepts, reads what
   was shared, and later completes it with an outcome. The sender is notified of each
   answer and sees each step on the case timeline. PKH Kota Jambi and Balai Anak
   "Rumbai" (not parties) get 404 on the referral, its shared material and the case; the
   receiver gets 404 on sections that were not shared.
2. The same worker transfers a girl in residential care to LKSA Kasih Bunda; the LKSA's
   social worker accepts, naming herself case manager; the LKSA owns the case, and the
   Balai keeps read access to the file as it was at the handover.

Each person uses their own browser context, as on their own device.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from atensi.core.models import Notification, ServiceComponent
from cases.models import Case, TimelineEntry
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.notification_kinds import NotificationKind
from stakeholders.models import Organisation, User

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(devices: Devices) -> Devices:
    call_command("load_demo")
    devices.password = settings.ATENSI_DEMO_PASSWORD
    devices.language = "en"
    return devices


def nav_count(page: Any, key: str) -> str:
    page.goto("/")
    return page.get_by_test_id(f"nav-count-{key}").inner_text()


def record_consent(page: Any, case: Case, *, giver: str, relation: str, organisation: str) -> None:
    page.goto(f"/cases/{case.pk}/consent/")
    page.get_by_test_id("consent-new").click()
    form = page.get_by_test_id("consent-form")
    form.locator("input[name=given_by_name]").fill(giver)
    form.locator("select[name=relation]").select_option(relation)
    form.locator("input[name=given_on]").fill(timezone.localdate().isoformat())
    form.locator("select[name=share_with]").select_option(label=organisation)
    page.get_by_test_id("consent-save").click()
    page.wait_for_url(f"**/cases/{case.pk}/consent/")
    expect(page.get_by_test_id("consent-active")).to_contain_text(giver)


def open_send_form(page: Any, case: Case) -> Any:
    page.goto(f"/cases/{case.pk}/referrals/")
    page.get_by_test_id("referral-new").click()
    page.wait_for_url(f"**/cases/{case.pk}/refer/")
    return page.get_by_test_id("send-form")


def choose_service(page: Any, form: Any, component: ServiceComponent) -> None:
    """A service referral for `component`. Each tick asks for new suggestions, which move the
    fields below them when they come: wait for the last, or a click lands where a field was."""
    form.locator("input[name=kind][value=service]").check()
    with page.expect_response(lambda r: "/refer/suggestions/" in r.url and f"components={component.pk}" in r.url):
        form.locator(f"input[name=components][value='{component.pk}']").check()


def assert_not_found(page: Any, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 404, path


def test_a_service_referral_to_dinas_sosial_is_accepted_and_completed(demo: Devices) -> None:
    case = Case.objects.get(beneficiary__full_name="Muhammad Rizky Pratama")
    dinsos = Organisation.objects.get(code="DINSOS-JAMBI")
    family_support = ServiceComponent.objects.get(code="dukungan_keluarga")

    # --- The Balai's social worker: consent naming Dinas Sosial, then the referral. ---------
    peksos = demo("peksos.alyatama")
    form = open_send_form(peksos, case)
    # Without consent the referral is refused, nothing is sent, and the page says where to go.
    choose_service(peksos, form, family_support)
    form.locator("select[name=receiver]").select_option(str(dinsos.pk))
    form.locator("textarea[name=reason]").fill("Nenek sakit; mohon pendampingan keluarga dan penelusuran ibu Rizky.")
    peksos.get_by_test_id("send-submit").click()
    expect(peksos.get_by_test_id("send-needs-consent")).to_contain_text("There is no consent to share")
    assert not Referral.objects.filter(case=case).exists()

    record_consent(peksos, case, giver="Siti Rahmah", relation="grandparent", organisation=dinsos.name)
    form = open_send_form(peksos, case)
    choose_service(peksos, form, family_support)
    form.locator("select[name=receiver]").select_option(str(dinsos.pk))
    form.locator("input[name=urgency][value=high]").check()
    form.locator("textarea[name=reason]").fill("Nenek sakit; mohon pendampingan keluarga dan penelusuran ibu Rizky.")
    form.locator("input[name=shared_sections][value=identity]").check()
    form.locator("input[name=shared_sections][value=notes]").check()
    peksos.get_by_test_id("send-submit").click()
    peksos.wait_for_url("**/referrals/*/")
    referral = Referral.objects.get(case=case, receiver=dinsos)
    assert (referral.kind, referral.urgency, referral.status) == (ReferralKind.SERVICE, "high", ReferralStatus.SENT)
    assert referral.sharing_basis == "consent" and sorted(referral.shared_sections) == ["identity", "notes"]

    # --- Dinas Sosial: the inbox and the counts, the minimum view, then accept. -------------
    officer = demo("dinsos.jambi")
    # The demo's own waiting referral (from the LKSA) and this one.
    assert nav_count(officer, "referrals") == "2"
    assert nav_count(officer, "notifications") == "2"
    officer.goto("/referrals/")
    row = officer.get_by_test_id("referral-row").filter(has_text=case.organisation.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Muhammad")
    expect(row).not_to_contain_text("Rizky Pratama")
    row.get_by_test_id("referral-open").click()
    officer.wait_for_url(f"**/referrals/{referral.pk}/")
    child = officer.get_by_test_id("referral-child")
    expect(child.get_by_test_id("referral-child-first-name")).to_have_text("Muhammad")
    expect(child).to_contain_text("Kota Jambi")
    body = officer.locator("main")
    expect(body).not_to_contain_text("Muhammad Rizky Pratama")
    expect(body).not_to_contain_text(case.beneficiary.nik)
    expect(body).not_to_contain_text(case.number)
    # Before accepting, the shared sections are closed.
    assert_not_found(officer, [f"/referrals/{referral.pk}/shared/identity/"])
    officer.goto(f"/referrals/{referral.pk}/")
    officer.get_by_test_id("referral-accept-form").get_by_test_id("referral-accept").click()
    officer.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(officer.get_by_test_id("referral-status")).to_have_attribute("data-status", "accepted")
    # Now what was shared opens, and only that.
    sections = officer.get_by_test_id("referral-sections")
    expect(sections.locator("a")).to_have_count(2)
    sections.locator("a[data-section=identity]").click()
    officer.wait_for_url(f"**/referrals/{referral.pk}/shared/identity/")
    expect(officer.get_by_test_id("identity-name")).to_contain_text("Muhammad Rizky Pratama")
    assert_not_found(
        officer,
        [
            f"/referrals/{referral.pk}/shared/family/",
            f"/referrals/{referral.pk}/shared/assessments/",
            f"/cases/{case.pk}/",
        ],
    )

    # --- The sender hears of the acceptance and sees it on the case timeline. ---------------
    assert Notification.objects.filter(
        recipient__username="peksos.alyatama", kind=NotificationKind.REFERRAL_ACCEPTED
    ).exists()
    peksos.goto(f"/cases/{case.pk}/")
    referral_steps = peksos.locator("[data-testid=timeline-entry][data-kind=referral]")
    expect(referral_steps).to_have_count(2)
    expect(referral_steps.first).to_contain_text("accepted")

    # --- Later, Dinas Sosial completes it; the outcome is required. -------------------------
    officer.goto(f"/referrals/{referral.pk}/")
    officer.get_by_test_id("referral-complete-submit").click()
    officer.wait_for_load_state()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    officer.get_by_test_id("referral-complete-form").locator("textarea").fill(
        "Ibu Rizky ditemukan di Muaro Jambi; konseling keluarga tiga kali, nenek dirujuk ke Puskesmas."
    )
    officer.get_by_test_id("referral-complete-submit").click()
    officer.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(officer.get_by_test_id("referral-status")).to_have_attribute("data-status", "completed")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED and "Muaro Jambi" in referral.outcome

    peksos.goto(f"/cases/{case.pk}/")
    expect(peksos.locator("[data-testid=timeline-entry][data-kind=referral]")).to_have_count(3)
    assert nav_count(peksos, "notifications") == "2"  # accepted, completed
    peksos.goto("/notifications/")
    expect(peksos.get_by_test_id("notification").first).to_contain_text("completed")
    peksos.get_by_test_id("notification").first.locator("a").click()
    peksos.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(peksos.get_by_test_id("referral-outcome")).to_contain_text("Muaro Jambi")
    assert TimelineEntry.objects.filter(case=case, kind="referral").count() == 3

    # --- Not a party: PKH Kota Jambi and Balai Anak "Rumbai" get 404 everywhere. ------------
    for outsider in ("pkh.jambi", "peksos.rumbai"):
        assert_not_found(
            demo(outsider),
            [
                f"/referrals/{referral.pk}/",
                f"/referrals/{referral.pk}/shared/identity/",
                f"/referrals/{referral.pk}/shared/notes/",
                f"/cases/{case.pk}/",
                f"/cases/{case.pk}/referrals/",
                f"/cases/{case.pk}/refer/",
            ],
        )
        page = demo(outsider)
        page.goto("/referrals/")
        expect(page.locator("main")).not_to_contain_text("Muhammad")
    assert demo.csp_violations == []


def test_a_transfer_to_the_lksa_moves_the_case_and_the_balai_keeps_read_access(demo: Devices) -> None:
    case = Case.objects.get(beneficiary__full_name="Nur Aisyah Putri")
    lksa = Organisation.objects.get(code="LKSA-KASIHBUNDA")

    peksos = demo("peksos.alyatama")
    record_consent(peksos, case, giver="Halimah", relation="mother", organisation=lksa.name)
    form = open_send_form(peksos, case)
    form.locator("input[name=kind][value=transfer]").check()
    form.locator("select[name=receiver]").select_option(str(lksa.pk))
    form.locator("textarea[name=reason]").fill("Pengasuhan jangka panjang di LKSA dekat sekolahnya.")
    peksos.get_by_test_id("send-submit").click()
    peksos.wait_for_url("**/referrals/*/")
    referral = Referral.objects.get(case=case, receiver=lksa)
    assert referral.kind == ReferralKind.TRANSFER

    worker = demo("lksa.jambi")
    assert nav_count(worker, "referrals") == "1"
    worker.goto(f"/referrals/{referral.pk}/")
    expect(worker.locator("main")).not_to_contain_text("Nur Aisyah Putri")
    accept = worker.get_by_test_id("referral-accept-form")
    dewi = User.objects.get(username="lksa.jambi")
    accept.locator("select[name='accept-case_manager']").select_option(str(dewi.pk))
    accept.get_by_test_id("referral-accept").click()
    worker.wait_for_url(f"**/referrals/{referral.pk}/")
    expect(worker.get_by_test_id("referral-status")).to_have_attribute("data-status", "accepted")

    # The LKSA owns the case now and works on it.
    case.refresh_from_db()
    assert case.organisation == lksa and case.case_manager.username == "lksa.jambi"
    worker.get_by_test_id("referral-case-link").click()
    worker.wait_for_url(f"**/cases/{case.pk}/")
    expect(worker.get_by_test_id("case-child")).to_contain_text("Nur Aisyah Putri")
    expect(worker.locator("[data-testid=timeline-entry][data-kind=assigned]").first).to_contain_text(lksa.name)

    # The Balai: no longer the owner, but its referral keeps the file as it was.
    peksos.goto(f"/cases/{case.pk}/")
    peksos.goto(f"/referrals/{referral.pk}/")
    expect(peksos.get_by_test_id("referral-status")).to_have_attribute("data-status", "accepted")
    sections = peksos.get_by_test_id("referral-sections")
    sections.locator("a[data-section=identity]").click()
    peksos.wait_for_url(f"**/referrals/{referral.pk}/shared/identity/")
    expect(peksos.get_by_test_id("identity-name")).to_contain_text("Nur Aisyah Putri")
    assert_not_found(peksos, [f"/cases/{case.pk}/edit/", f"/cases/{case.pk}/refer/"])
    assert_not_found(demo("peksos.rumbai"), [f"/referrals/{referral.pk}/", f"/cases/{case.pk}/"])
    assert demo.csp_violations == []
