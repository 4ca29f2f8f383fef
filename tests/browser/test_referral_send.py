"""A social worker refers a child from the case's referrals tab: the suggestions follow the
services ticked, a suggestion fills the receiver in place, the referral is sent and its page
opens; a receiver without consent is refused with a link to the consent page; a plan
service provided elsewhere is referred from its shortcut."""

from __future__ import annotations

import datetime
import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from atensi.core.models import Cluster, ServiceComponent
from cases.models import PlanItem
from cases.tests.factories import BeneficiaryFactory, open_case, village
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.tests.test_services import consent_to_share
from stakeholders.models import OrganisationKind, Region
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, OrganisationFactory, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TELANAIPURA = "1571011004"


@pytest.fixture(autouse=True)
def english(page, live_server):
    # The assertions read English text; the portal speaks Indonesian unless asked.
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": live_server.url}])


@pytest.fixture
def setting(org):
    """A worker of `org` with a child in Telanaipura, and organisations around the child."""
    worker = member(organisation=org, role=Role.SOCIAL_WORKER, username="peksos.uji")
    child = BeneficiaryFactory(
        organisation=org, created_by=worker, full_name="Budi Santoso", village=village(TELANAIPURA), regency_code="1571"
    )
    case = open_case(organisation=org, by=worker, beneficiary=child)
    here = village(TELANAIPURA)
    assert here.latitude is not None and here.longitude is not None
    children = Cluster.objects.get(code="anak")
    terapi = ServiceComponent.objects.get(code="terapi")
    vokasional = ServiceComponent.objects.get(code="vokasional")
    near = OrganisationFactory(
        code="LKSA-DEKAT",
        name="LKSA Kasih Dekat",
        kind=OrganisationKind.LKSA,
        latitude=here.latitude + 0.03,
        longitude=here.longitude,
        capacity=20,
        occupancy=4,
    )
    far = OrganisationFactory(
        code="BALAI-JAUH",
        name="Balai Harapan Jauh",
        kind=OrganisationKind.BALAI,
        latitude=here.latitude + 0.4,
        longitude=here.longitude,
        capacity=40,
        occupancy=10,
    )
    for lksa in (near, far):
        lksa.clusters.add(children)
    near.components.add(terapi)
    far.components.add(terapi, vokasional)
    pkh = OrganisationFactory(code="PKH-KOTA", name="PKH Kota Jambi", kind=OrganisationKind.PKH)
    pkh.coverage.add(Region.objects.get(code="1571"))
    consent_to_share(case, far, by=worker)
    return {"worker": worker, "case": case, "near": near, "far": far, "pkh": pkh, "vokasional": vokasional}


def test_worker_picks_a_suggestion_and_sends_a_service_referral(page, setting):
    case, far = setting["case"], setting["far"]
    login(page, "peksos.uji", PASSWORD)

    page.goto(f"/cases/{case.pk}/referrals/")
    expect(page.get_by_test_id("case-referral-empty")).to_be_visible()
    page.get_by_test_id("referral-new").click()
    page.wait_for_url(f"**/cases/{case.pk}/refer/")
    form = page.get_by_test_id("send-form")
    suggestions = page.get_by_test_id("send-suggestions")
    expect(suggestions.get_by_test_id("suggestion")).to_have_count(3)
    expect(suggestions).to_contain_text("the PKH unit for Kota Jambi")

    # A service referral asking for vocational training: the Balai that offers it moves first.
    form.locator("input[name=kind][value=service]").check()
    expect(form.locator("input[name=handover_reason]").first).to_be_hidden()
    form.locator(f"input[name=components][value='{setting['vokasional'].pk}']").check()
    expect(suggestions.get_by_test_id("suggestion-name").first).to_have_text("Balai Harapan Jauh")
    first = page.get_by_test_id("suggestion").first
    expect(first.get_by_test_id("suggestion-sharing")).to_contain_text("consent to share recorded")
    expect(page.get_by_test_id("suggestion").nth(1).get_by_test_id("suggestion-sharing")).to_contain_text(
        "no consent to share yet"
    )

    # Typed text stays: choosing the suggestion fills the select without leaving the page.
    reason = "Anak ingin belajar menjahit; butuh pelatihan vokasional."
    form.locator("textarea[name=reason]").fill(reason)
    first.get_by_test_id("suggestion-pick").click()
    expect(form.locator("select[name=receiver]")).to_have_value(str(far.pk))
    expect(first).to_have_class(re.compile(r"list-group-item-primary"))
    expect(form.locator("textarea[name=reason]")).to_have_value(reason)
    form.locator("input[name=urgency][value=high]").check()
    form.locator("input[name=shared_sections][value=assessments]").check()
    page.get_by_test_id("send-submit").click()

    page.wait_for_url("**/referrals/*/")
    referral = Referral.objects.get()
    assert page.url.endswith(f"/referrals/{referral.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("The referral was sent to Balai Harapan Jauh")
    assert referral.receiver == far and referral.kind == ReferralKind.SERVICE and referral.urgency == "high"
    assert referral.status == ReferralStatus.SENT and referral.shared_sections == ["assessments"]
    assert [c.code for c in referral.components.all()] == ["vokasional"]

    # Back on the tab, the referral is listed, waiting for an answer.
    page.goto(f"/cases/{case.pk}/referrals/")
    row = page.get_by_test_id("case-referral")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("case-referral-receiver")).to_have_text("Balai Harapan Jauh")
    expect(row.get_by_test_id("case-referral-status")).to_have_text("Waiting for an answer")
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_a_receiver_without_consent_is_refused_with_a_link_to_the_consent_page(page, setting):
    case = setting["case"]
    login(page, "peksos.uji", PASSWORD)
    page.goto(f"/cases/{case.pk}/refer/")
    form = page.get_by_test_id("send-form")
    form.locator("input[name=kind][value=handover]").check()
    expect(form.locator("input[name=components]").first).to_be_hidden()
    form.locator("input[name=handover_reason][value=family_support]").check()
    page.get_by_test_id("suggestion").filter(has_text="PKH Kota Jambi").get_by_test_id("suggestion-pick").click()
    form.locator("textarea[name=reason]").fill("Keluarga butuh dukungan PKH setelah rehabilitasi.")
    page.get_by_test_id("send-submit").click()

    expect(page.get_by_test_id("send-needs-consent")).to_contain_text("There is no consent to share")
    assert not Referral.objects.exists()
    # What was chosen stays chosen.
    expect(form.locator("input[name=handover_reason][value=family_support]")).to_be_checked()
    page.get_by_test_id("send-consent-link").click()
    page.wait_for_url(f"**/cases/{case.pk}/consent/")
    assert page.csp_violations == []  # type: ignore[attr-defined]


def test_a_plan_service_provided_elsewhere_is_referred_from_its_shortcut(page, setting):
    case, far = setting["case"], setting["far"]
    today = timezone.localdate()
    item = PlanItem.objects.create(
        case=case,
        component=setting["vokasional"],
        service="Kursus menjahit",
        provider=far,
        start_date=today,
        target_date=today + datetime.timedelta(days=60),
        created_by=setting["worker"],
    )
    login(page, "peksos.uji", PASSWORD)
    page.goto(f"/cases/{case.pk}/referrals/")
    page.get_by_test_id("plan-awaiting-send").click()
    form = page.get_by_test_id("send-form")
    expect(page.get_by_test_id("send-plan-item")).to_contain_text("Kursus menjahit")
    expect(form.locator("select[name=receiver]")).to_have_value(str(far.pk))
    expect(form.locator("textarea[name=reason]")).to_have_value("Kursus menjahit")
    page.get_by_test_id("send-submit").click()
    page.wait_for_url("**/referrals/*/")
    assert Referral.objects.get().plan_item == item
    page.goto(f"/cases/{case.pk}/referrals/")
    expect(page.get_by_test_id("plan-awaiting")).to_have_count(0)
    expect(page.get_by_test_id("case-referral")).to_have_count(1)
