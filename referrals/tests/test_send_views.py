"""Sending a referral from a case: the case's referrals tab, the send form (each kind, the
plan-item shortcut, re-sending after a decline), who may send, bad input that changes
nothing, and the receiver suggestions built from real regions and organisations."""

from __future__ import annotations

import datetime
import math
import re
import uuid
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from atensi.core.models import Cluster, ServiceComponent
from atensi.testing.second_factor import Client
from cases.models import Case, Document, PlanItem, PlanItemStatus, SharingOverride
from cases.tests.factories import BeneficiaryFactory, open_case, village
from referrals.forms import send_initial
from referrals.models import Referral, ReferralKind, ReferralStatus
from referrals.services import referral_cancel, referral_decline, referral_send
from referrals.suggestions import receiver_suggestions
from referrals.tests.test_services import consent_to_share
from stakeholders.models import Organisation, OrganisationKind, Region
from stakeholders.roles import Role
from stakeholders.tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db

TELANAIPURA = "1571011004"  # a kelurahan of Kota Jambi
LUBUK_MINTURUN = "1371111002"  # Kota Padang
REASON = "Anak membutuhkan konseling trauma."


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def en() -> Any:
    """en(user) -> a test client logged in as `user`, asking for English."""

    def make(user: Any) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make


@pytest.fixture
def case(org: Any, owner: Any, other_org: Any) -> Case:
    """An open case of `org` (case manager `owner`) with consent to share with `other_org`."""
    case = open_case(organisation=org, by=owner)
    consent_to_share(case, other_org, by=owner)
    return case


@pytest.fixture
def officer(other_org: Any) -> Any:
    return member(organisation=other_org, role=Role.REFERRAL_OFFICER, username="officer")


def component(code: str = "terapi") -> ServiceComponent:
    return ServiceComponent.objects.get(code=code)


def tab_url(case: Case) -> str:
    return reverse("referrals:case_referrals", args=[case.pk])


def send_url(case: Case) -> str:
    return reverse("referrals:send", args=[case.pk])


def text(response: Any) -> str:
    return response.content.decode()


def flashed(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def data(receiver: Organisation, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": ReferralKind.SERVICE,
        "receiver": receiver.pk,
        "urgency": "high",
        "reason": REASON,
        "components": [component().pk],
        "handover_reason": "",
        "shared_sections": ["assessments", "plan"],
        "plan_item": "",
        "resend": "",
        "submission_token": str(uuid.uuid4()),
    }
    values.update(overrides)
    return values


def sent(case: Case, by: Any, receiver: Organisation, **kwargs: Any) -> Referral:
    kwargs.setdefault("kind", ReferralKind.SERVICE)
    kwargs.setdefault("reason", REASON)
    if kwargs["kind"] == ReferralKind.SERVICE:
        kwargs.setdefault("components", [component()])
    return referral_send(case=case, by=by, receiver=receiver, **kwargs)


def plan_item(case: Case, by: Any, provider: Organisation | None, **fields: Any) -> PlanItem:
    fields.setdefault("component", component("vokasional"))
    fields.setdefault("service", "Kursus menjahit")
    today = timezone.localdate()
    return PlanItem.objects.create(
        case=case,
        provider=provider,
        start_date=today,
        target_date=today + datetime.timedelta(days=60),
        created_by=by,
        **fields,
    )


def document(case: Case, by: Any, title: str = "Akta kelahiran") -> Document:
    return Document.objects.create(
        case=case,
        kind="akta",
        title=title,
        file="private/x.pdf",
        original_name="akta.pdf",
        content_type="application/pdf",
        size=10,
        sha256=uuid.uuid4().hex * 2,
        uploaded_by=by,
    )


def close(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(stage="closed", closed_at=timezone.now(), closure_reason="goals_met")


# --- the case's referrals tab -----------------------------------------------------------


def test_the_tab_lists_the_cases_referrals_with_status_and_overdue(en, case, owner, org, other_org, officer):
    third = OrganisationFactory(code="LKSA-TIGA", name="LKSA Tiga")
    consent_to_share(case, third, by=owner)
    waiting = sent(case, owner, other_org, urgency="emergency")
    Referral.objects.filter(pk=waiting.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=3), respond_by=timezone.now() - datetime.timedelta(days=2)
    )
    declined = sent(case, owner, third, kind=ReferralKind.HANDOVER, handover_reason="school")
    referral_decline(referral=declined, by=member(organisation=third, role=Role.SOCIAL_WORKER), reason="no_capacity")

    response = en(owner).get(tab_url(case))

    assert response.status_code == 200
    page = text(response)
    assert page.count('data-testid="case-referral"') == 2
    assert 'data-testid="case-referral-overdue"' in page and "data-overdue" in page
    assert reverse("referrals:detail", args=[waiting.pk]) in page
    assert "Balai Anak Lain" in page and "LKSA Tiga" in page
    assert "Return to school (Dinas Pendidikan)" in page and "No capacity" in page
    # The declined one can be re-sent elsewhere; the waiting one cannot.
    assert page.count('data-testid="case-referral-resend"') == 1
    assert f"?resend={declined.pk}" in page
    assert 'data-testid="referral-new"' in page


def test_the_tab_shows_an_empty_state_and_the_refer_button(en, case, owner):
    page = text(en(owner).get(tab_url(case)))
    assert 'data-testid="case-referral-empty"' in page
    assert send_url(case) in page


def test_a_colleague_reads_the_tab_but_gets_no_refer_button(en, case, owner, colleague, other_org):
    sent(case, owner, other_org)
    page = text(en(colleague).get(tab_url(case)))
    assert page.count('data-testid="case-referral"') == 1
    assert 'data-testid="referral-new"' not in page
    assert "Only the case manager or a supervisor" in page


def test_a_closed_case_has_no_refer_button(en, case, owner):
    close(case)
    page = text(en(owner).get(tab_url(case)))
    assert 'data-testid="referral-new"' not in page
    assert "This case is closed" in page


def test_plan_items_provided_elsewhere_get_a_send_shortcut_until_referred(en, case, owner, org, other_org):
    waiting = plan_item(case, owner, other_org, service="Kursus menjahit")
    plan_item(case, owner, None, service="Konseling sendiri")  # provided by the own organisation
    plan_item(case, owner, other_org, service="Sudah selesai", status=PlanItemStatus.DONE, outcome="Selesai.")
    client = en(owner)
    page = text(client.get(tab_url(case)))
    assert page.count('data-testid="plan-awaiting-item"') == 1
    assert f"{send_url(case)}?plan_item={waiting.pk}" in page

    sent(case, owner, other_org, plan_item=waiting)
    page = text(client.get(tab_url(case)))
    assert 'data-testid="plan-awaiting"' not in page


def test_the_tab_and_the_suggestions_are_get_only(en, case, owner):
    assert en(owner).post(tab_url(case)).status_code == 405
    assert en(owner).post(reverse("referrals:send_suggestions", args=[case.pk])).status_code == 405


def test_the_tab_does_not_grow_with_referrals(en, case, owner, other_org, django_assert_max_num_queries):
    receivers = [OrganisationFactory(name=f"Penerima {n}") for n in range(20)]
    consent_to_share(case, *receivers, by=owner)
    for n, receiver in enumerate(receivers):
        referral = sent(case, owner, receiver, urgency=["normal", "high", "emergency"][n % 3])
        if n % 4 == 0:
            referral_cancel(referral=referral, by=owner, reason="Keluarga pindah.")
    for n in range(5):
        plan_item(case, owner, other_org, service=f"Layanan {n}")
    client = en(owner)
    with django_assert_max_num_queries(11):
        response = client.get(tab_url(case))
    page = text(response)
    assert page.count('data-testid="case-referral"') == 20
    assert page.count('data-testid="plan-awaiting-item"') == 5


# --- sending: each kind -------------------------------------------------------------------


def test_a_service_referral_is_sent_and_opens_its_page(en, case, owner, other_org):
    akta = document(case, owner)
    response = en(owner).post(
        send_url(case), data(other_org, shared_documents=[akta.pk], shared_sections=["identity", "plan"])
    )
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("referrals:detail", args=[referral.pk])
    assert referral.kind == ReferralKind.SERVICE and referral.receiver == other_org
    assert referral.sender == case.organisation
    assert referral.urgency == "high" and referral.reason == REASON and referral.sent_by == owner
    assert list(referral.components.all()) == [component()]
    assert referral.shared_sections == ["identity", "plan"]
    assert list(referral.shared_documents.all()) == [akta]
    assert (referral.respond_by - referral.sent_at).total_seconds() == 72 * 3600
    assert any("The referral was sent to Balai Anak Lain" in m for m in flashed(response))


def test_a_transfer_is_sent(en, case, owner, other_org):
    response = en(owner).post(send_url(case), data(other_org, kind=ReferralKind.TRANSFER, components=[]))
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.kind == ReferralKind.TRANSFER and referral.status == ReferralStatus.SENT
    case.refresh_from_db()
    assert case.organisation.code == "BA-UJI"  # nothing moves before acceptance


def test_a_handover_is_sent_with_its_reason(en, case, owner, other_org):
    response = en(owner).post(
        send_url(case),
        data(other_org, kind=ReferralKind.HANDOVER, components=[], handover_reason="civil_registry", urgency="normal"),
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.kind == ReferralKind.HANDOVER and referral.handover_reason == "civil_registry"


def test_a_supervisor_may_send_too(en, case, supervisor, other_org):
    assert en(supervisor).post(send_url(case), data(other_org)).status_code == 302
    assert Referral.objects.get().sent_by == supervisor


def test_the_form_shows_each_urgencys_deadline(en, case, owner):
    from referrals.models import ResponseDeadline

    ResponseDeadline.objects.update_or_create(urgency="high", defaults={"hours": 48})
    ResponseDeadline.objects.update_or_create(urgency="emergency", defaults={"hours": 12})
    page = text(en(owner).get(send_url(case)))
    assert "an answer within 12 hours" in page
    assert "an answer within 2 days" in page
    assert "an answer within 7 days" in page  # normal: the programme default


# --- the plan-item shortcut -----------------------------------------------------------------


def test_a_plan_item_prefills_the_form(en, case, owner, other_org):
    item = plan_item(case, owner, other_org, service="Kursus menjahit")
    response = en(owner).get(send_url(case), {"plan_item": item.pk})
    form = response.context["form"]
    assert form.initial["kind"] == ReferralKind.SERVICE
    assert form.initial["components"] == [item.component_id]
    assert form.initial["receiver"] == other_org.pk
    assert form.initial["reason"] == "Kursus menjahit"
    assert form.initial["plan_item"] == item.pk
    page = text(response)
    assert 'data-testid="send-plan-item"' in page
    assert f'<option value="{other_org.pk}" selected>' in page


def test_the_referral_carries_the_plan_item(en, case, owner, other_org):
    item = plan_item(case, owner, other_org)
    response = en(owner).post(
        send_url(case), data(other_org, plan_item=item.pk, components=[item.component_id], reason=item.service)
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.plan_item == item
    item.refresh_from_db()
    assert item.provider == other_org and item.status == PlanItemStatus.PLANNED


def test_a_plan_item_already_carried_is_not_sent_twice(en, case, owner, other_org):
    item = plan_item(case, owner, other_org)
    third = OrganisationFactory(code="LKSA-TIGA", name="LKSA Tiga")
    consent_to_share(case, third, by=owner)
    sent(case, owner, other_org, plan_item=item)
    response = en(owner).post(send_url(case), data(third, plan_item=item.pk))
    assert response.status_code == 200
    assert "is already carried by the referral to Balai Anak Lain" in text(response)
    assert Referral.objects.count() == 1


def test_a_done_plan_item_is_refused_with_the_services_message(en, case, owner, other_org):
    item = plan_item(case, owner, other_org, status=PlanItemStatus.DONE, outcome="Selesai.")
    response = en(owner).get(send_url(case), {"plan_item": item.pk})
    assert any("only a planned or running service can be referred" in m for m in flashed(response))
    response = en(owner).post(send_url(case), data(other_org, plan_item=item.pk))
    assert response.status_code == 200
    assert "only a planned or running service can be referred" in text(response)
    assert not Referral.objects.exists()


def test_a_plan_item_of_another_case_is_ignored_with_a_note(en, case, owner, org, other_org):
    other_case = open_case(organisation=org, by=owner)
    item = plan_item(other_case, owner, other_org)
    response = en(owner).get(send_url(case), {"plan_item": item.pk})
    assert response.status_code == 200
    assert "plan_item" not in response.context["form"].initial
    assert any("not on this case" in m for m in flashed(response))
    response = en(owner).post(send_url(case), data(other_org, plan_item=item.pk))
    assert response.status_code == 200 and "not on this case" in text(response)
    assert not Referral.objects.exists()


# --- re-sending after a decline ------------------------------------------------------------


@pytest.fixture
def declined(case, owner, other_org, officer) -> Referral:
    akta = document(case, owner)
    referral = sent(
        case,
        owner,
        other_org,
        urgency="emergency",
        shared_sections=["assessments"],
        shared_documents=[akta],
    )
    return referral_decline(referral=referral, by=officer, reason="no_capacity")


def test_resend_prefills_everything_but_the_receiver(en, case, owner, other_org, declined):
    response = en(owner).get(send_url(case), {"resend": declined.pk})
    form = response.context["form"]
    assert form.initial["kind"] == ReferralKind.SERVICE and form.initial["urgency"] == "emergency"
    assert form.initial["reason"] == REASON
    assert form.initial["components"] == [component().pk]
    assert form.initial["shared_sections"] == ["assessments"]
    assert form.initial["shared_documents"] == [declined.shared_documents.get().pk]
    assert form.initial["resend"] == declined.pk
    assert "receiver" not in form.initial
    page = text(response)
    assert 'data-testid="send-resend"' in page
    # The organisation that declined is not offered, nor suggested.
    assert f'<option value="{other_org.pk}"' not in page
    assert f'data-suggestion="{other_org.pk}"' not in page


def test_resend_to_another_organisation_links_the_two(en, case, owner, other_org, declined):
    third = OrganisationFactory(code="LKSA-TIGA", name="LKSA Tiga")
    consent_to_share(case, third, by=owner)
    response = en(owner).post(send_url(case), data(third, resend=declined.pk, urgency="emergency"))
    assert response.status_code == 302
    again = Referral.objects.exclude(pk=declined.pk).get()
    assert again.resent_from == declined and again.receiver == third


def test_resend_to_the_organisation_that_declined_is_refused(en, case, owner, other_org, declined):
    response = en(owner).post(send_url(case), data(other_org, resend=declined.pk))
    assert response.status_code == 200
    assert "Balai Anak Lain declined this referral. Choose another organisation." in text(response)
    assert Referral.objects.count() == 1


def test_only_a_declined_or_cancelled_referral_of_this_case_is_resent(en, case, owner, org, other_org):
    waiting = sent(case, owner, other_org)
    response = en(owner).get(send_url(case), {"resend": waiting.pk})
    assert "resend" not in response.context["form"].initial
    assert any("Only a declined or cancelled referral" in m for m in flashed(response))
    third = OrganisationFactory(code="LKSA-TIGA", name="LKSA Tiga")
    consent_to_share(case, third, by=owner)
    response = en(owner).post(send_url(case), data(third, resend=waiting.pk))
    assert response.status_code == 200 and "Only a declined or cancelled referral" in text(response)
    assert Referral.objects.count() == 1


def test_a_cancelled_referral_may_be_resent_to_the_same_organisation(en, case, owner, other_org):
    cancelled = referral_cancel(referral=sent(case, owner, other_org), by=owner, reason="Salah urgensi.")
    response = en(owner).post(send_url(case), data(other_org, resend=cancelled.pk))
    assert response.status_code == 302
    assert Referral.objects.exclude(pk=cancelled.pk).get().resent_from == cancelled


# --- who may send --------------------------------------------------------------------------


def test_an_outsider_gets_404_everywhere(en, case, owner, outsider, other_org):
    referral_officer = member(organisation=other_org, role=Role.SOCIAL_WORKER, username="peksos.lain")
    for user in (outsider, referral_officer):
        client = en(user)
        assert client.get(tab_url(case)).status_code == 404
        assert client.get(send_url(case)).status_code == 404
        assert client.post(send_url(case), data(other_org)).status_code == 404
        assert client.get(reverse("referrals:send_suggestions", args=[case.pk])).status_code == 404
    assert not Referral.objects.exists()


def test_a_confidential_case_is_404_for_a_colleague(en, case, colleague, other_org):
    Case.objects.filter(pk=case.pk).update(is_confidential=True)
    assert en(colleague).get(tab_url(case)).status_code == 404
    assert en(colleague).post(send_url(case), data(other_org)).status_code == 404


def test_a_colleague_who_cannot_act_is_told_why(en, case, colleague, other_org):
    client = en(colleague)
    response = client.get(send_url(case))
    assert response.status_code == 302 and response.url == tab_url(case)
    assert any("Only the case manager or a supervisor of Balai Anak Uji" in m for m in flashed(response))
    response = client.post(send_url(case), data(other_org))
    assert response.status_code == 302
    assert not Referral.objects.exists()


def test_a_closed_case_is_not_referred(en, case, owner, other_org):
    close(case)
    response = en(owner).post(send_url(case), data(other_org))
    assert response.status_code == 302 and response.url == tab_url(case)
    assert any("This case is closed" in m for m in flashed(response))
    assert not Referral.objects.exists()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("problem", "message"),
    [
        ("own", "A case cannot be referred to its own organisation."),
        ("inactive", "is not active in the portal; choose another organisation."),
        ("no_reason", "Say why the child is referred."),
        ("no_services", "Choose the services you ask for."),
        ("no_handover_reason", "Choose what the handover is for."),
        ("no_kind", "Choose what kind of referral this is."),
        ("no_receiver", "Choose the organisation to refer the child to."),
        ("unknown_receiver", "That organisation is not in the portal."),
        ("foreign_document", "Only documents of this case can be shared."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(en, case, owner, org, other_org, problem, message):
    values = data(other_org)
    if problem == "own":
        values["receiver"] = org.pk
    elif problem == "inactive":
        Organisation.objects.filter(pk=other_org.pk).update(is_active=False)
    elif problem == "no_reason":
        values["reason"] = "   "
    elif problem == "no_services":
        values["components"] = []
    elif problem == "no_handover_reason":
        values.update(kind=ReferralKind.HANDOVER, components=[])
    elif problem == "no_kind":
        values["kind"] = ""
    elif problem == "no_receiver":
        values["receiver"] = ""
    elif problem == "unknown_receiver":
        values["receiver"] = 999999
    elif problem == "foreign_document":
        values["shared_documents"] = [document(open_case(organisation=org, by=owner), owner).pk]
    response = en(owner).post(send_url(case), values)
    assert response.status_code == 200
    assert message in text(response)
    assert not Referral.objects.exists()


def test_without_consent_the_page_links_to_the_consent_tab(en, case, owner):
    stranger = OrganisationFactory(code="LKSA-BARU", name="LKSA Baru")
    response = en(owner).post(send_url(case), data(stranger))
    assert response.status_code == 200
    page = text(response)
    assert "There is no consent to share this child&#x27;s data with LKSA Baru" in page
    assert 'data-testid="send-needs-consent"' in page
    assert reverse("cases:case_consent", args=[case.pk]) in page
    assert not Referral.objects.exists()
    # The emergency override is enough.
    supervisor = member(organisation=case.organisation, role=Role.SUPERVISOR)
    SharingOverride.objects.create(case=case, organisation=stranger, reason="Anak dalam bahaya.", decided_by=supervisor)
    assert en(owner).post(send_url(case), data(stranger)).status_code == 302
    assert Referral.objects.get().sharing_basis == "override"


def test_a_preset_receiver_without_consent_is_flagged_before_writing(en, case, owner):
    stranger = OrganisationFactory(code="LKSA-BARU", name="LKSA Baru")
    page = text(en(owner).get(send_url(case), {"receiver": stranger.pk}))
    assert 'data-testid="send-needs-consent"' in page


def test_a_second_live_referral_to_the_same_organisation_is_refused(en, case, owner, other_org):
    sent(case, owner, other_org)
    response = en(owner).post(send_url(case), data(other_org))
    assert response.status_code == 200
    assert "already has an open referral to Balai Anak Lain" in text(response)
    assert Referral.objects.count() == 1


def test_a_double_submit_is_saved_once(en, case, owner, other_org):
    client = en(owner)
    values = data(other_org)
    first = client.post(send_url(case), values)
    second = client.post(send_url(case), values)
    assert first.status_code == 302 and second.status_code == 302
    assert second.url == tab_url(case)
    assert any("already saved" in m for m in flashed(second))
    assert Referral.objects.count() == 1


def test_a_refused_send_can_be_corrected_and_sent_with_the_same_token(en, case, owner, other_org):
    client = en(owner)
    values = data(other_org, reason="")
    assert client.post(send_url(case), values).status_code == 200
    values["reason"] = REASON
    assert client.post(send_url(case), values).status_code == 302
    assert Referral.objects.count() == 1


def test_the_send_form_has_a_bounded_number_of_queries(en, case, owner, django_assert_max_num_queries):
    child = case.beneficiary
    child.village = village(TELANAIPURA)
    child.regency_code = "1571"
    child.save()
    jambi = Region.objects.get(code="1571")
    for n in range(15):
        OrganisationFactory(name=f"Dinas {n}", kind=OrganisationKind.OTHER).coverage.add(jambi)
    origin = village(TELANAIPURA)
    assert origin.latitude is not None
    lksa_cluster = Cluster.objects.get(code="anak")
    for n in range(10):
        org = OrganisationFactory(
            name=f"LKSA Dekat {n}",
            kind=OrganisationKind.LKSA,
            latitude=origin.latitude + n * 0.01,
            longitude=origin.longitude,
            capacity=10,
            occupancy=n,
        )
        org.clusters.add(lksa_cluster)
        org.components.add(component())
    for n in range(5):
        document(case, owner, title=f"Dokumen {n}")
    client = en(owner)
    with django_assert_max_num_queries(22):
        response = client.get(send_url(case), {"components": [component().pk]})
    page = text(response)
    assert page.count('data-testid="suggestion"') == 5 + 8  # the nearest, then those covering the village
    assert page.count('name="shared_documents"') == 5


# Security review: "²".isdigit() is true but int("²") fails; such ids are ignored or refused.


@pytest.mark.parametrize("query", ["resend=%C2%B2", "plan_item=%C2%B2", "receiver=%C2%B2", "components=%C2%B2"])
def test_non_ascii_digits_in_the_send_form_are_ignored(client_for, case, owner, query):
    for name in ("send", "send_suggestions"):
        response = client_for(owner).get(reverse(f"referrals:{name}", args=[case.pk]) + "?" + query)
        assert response.status_code == 200


def test_non_ascii_digits_posted_as_the_receiver_are_refused(client_for, case, owner):
    data = {"kind": "service", "receiver": "²", "urgency": "normal", "reason": "x", "submission_token": "a" * 32}
    response = client_for(owner).post(reverse("referrals:send", args=[case.pk]), data)
    assert response.status_code == 200
    assert not Referral.objects.exists()


# --- receiver suggestions ------------------------------------------------------------------


@pytest.fixture
def jambi_child(org, owner) -> Case:
    """A case of `org` for a child living in Telanaipura (Kota Jambi)."""
    child = BeneficiaryFactory(organisation=org, created_by=owner, village=village(TELANAIPURA), regency_code="1571")
    return open_case(organisation=org, by=owner, beneficiary=child)


def near(origin: Region, km: float) -> tuple[float, float]:
    """A point `km` north of the region's pin."""
    assert origin.latitude is not None and origin.longitude is not None
    return origin.latitude + km / 111.2, origin.longitude


@pytest.fixture
def jambi_network(org) -> dict[str, Organisation]:
    """Organisations around Telanaipura, with coverage, pins, clusters, services, places."""
    telanaipura = village(TELANAIPURA)
    children = Cluster.objects.get(code="anak")
    elderly = Cluster.objects.get(code="lanjut_usia")
    terapi, vokasional = component("terapi"), component("vokasional")

    def make(code: str, name: str, kind: str, *, km: float | None = None, covers=(), **fields: Any) -> Organisation:
        if km is not None:
            fields["latitude"], fields["longitude"] = near(telanaipura, km)
        org = OrganisationFactory(code=code, name=name, kind=kind, **fields)
        org.coverage.set(Region.objects.filter(code__in=covers))
        return org

    orgs = {
        "district": make("TKSK-TELANAI", "Unit Telanaipura", OrganisationKind.OTHER, covers=["157101"]),
        "province": make("DINSOS-JAMBI", "Dinsos Provinsi Jambi", OrganisationKind.DINSOS_PROVINSI, covers=["15"]),
        "education": make("DISDIK-JAMBI", "Dinas Pendidikan Kota Jambi", OrganisationKind.EDUCATION, covers=["1571"]),
        "padang": make("DINSOS-PADANG", "Dinas Sosial Kota Padang", OrganisationKind.DINSOS_KABKOTA, covers=["1371"]),
        "closed": make("LKSA-TUTUP", "LKSA Tutup", OrganisationKind.LKSA, km=1, covers=["1571"], is_active=False),
        "pkh": make("PKH-KOTAJAMBI", "PKH Kota Jambi", OrganisationKind.PKH, covers=["1571"]),
        "pkh_padang": make("PKH-PADANG", "PKH Kota Padang", OrganisationKind.PKH, covers=["1371"]),
        # LKSA/Balai by distance: the nearest has no free place, one far away offers both services.
        "full": make("LKSA-PENUH", "LKSA Penuh", OrganisationKind.LKSA, km=2, capacity=10, occupancy=10),
        "near": make("LKSA-DEKAT", "LKSA Dekat", OrganisationKind.LKSA, km=5, capacity=20, occupancy=5),
        "far": make("BALAI-JAUH", "Balai Jauh", OrganisationKind.BALAI, km=40, capacity=50, occupancy=10),
        "elderly": make("LKSA-LANSIA", "Panti Lansia", OrganisationKind.LKSA, km=1, capacity=10, occupancy=0),
    }
    for key in ("full", "near", "far"):
        orgs[key].clusters.add(children)
    orgs["elderly"].clusters.add(elderly)
    orgs["full"].components.add(terapi)
    orgs["near"].components.add(terapi)
    orgs["far"].components.add(terapi, vokasional)
    # The case's own organisation covers the village too: never suggested.
    org.coverage.set(Region.objects.filter(code="1571"))
    return orgs


def codes(suggestions) -> list[str]:
    return [row.organisation.code for row in suggestions.rows]


def by_code(suggestions, code: str):
    return next(row for row in suggestions.rows if row.organisation.code == code)


def test_suggestions_cover_the_village_rank_lksa_and_name_the_pkh(jambi_child, jambi_network, owner):
    found = receiver_suggestions(case=jambi_child, kind=ReferralKind.SERVICE, components=[component("terapi")])
    # The nearest LKSA/Balai of the child's cluster first: free places before full, then
    # distance; then those covering the village, the most local first; then PKH.
    assert codes(found) == [
        "LKSA-DEKAT",
        "BALAI-JAUH",
        "LKSA-PENUH",
        "TKSK-TELANAI",
        "DISDIK-JAMBI",
        "PKH-KOTAJAMBI",
        "DINSOS-JAMBI",
    ]
    assert {"BA-UJI", "LKSA-TUTUP", "DINSOS-PADANG", "PKH-PADANG", "LKSA-LANSIA"}.isdisjoint(codes(found))
    near = by_code(found, "LKSA-DEKAT")
    assert near.distance_km == pytest.approx(5, rel=0.02) and near.free_places == 15
    assert [c.code for c in near.offers] == ["terapi"] and near.lacks == []
    assert by_code(found, "LKSA-PENUH").free_places == 0
    assert by_code(found, "TKSK-TELANAI").covers.code == "157101"
    assert by_code(found, "DINSOS-JAMBI").covers.code == "15"
    pkh = by_code(found, "PKH-KOTAJAMBI")
    assert pkh.pkh_for.code == "1571" and pkh.covers.code == "1571"  # one row, both reasons
    assert found.place.code == TELANAIPURA and found.regency.code == "1571"


def test_suggestions_rank_lksa_offering_every_requested_service_first(jambi_child, jambi_network):
    found = receiver_suggestions(case=jambi_child, components=[component("terapi"), component("vokasional")])
    assert codes(found)[:3] == ["BALAI-JAUH", "LKSA-DEKAT", "LKSA-PENUH"]
    assert [c.code for c in by_code(found, "LKSA-DEKAT").lacks] == ["vokasional"]


def test_handover_suggestions_put_the_right_office_first(jambi_child, jambi_network):
    found = receiver_suggestions(case=jambi_child, kind=ReferralKind.HANDOVER, handover_reason="school")
    assert codes(found)[0] == "DISDIK-JAMBI"
    assert by_code(found, "DISDIK-JAMBI").handles == "Return to school (Dinas Pendidikan)"


def test_suggestions_leave_out_the_organisation_that_declined(jambi_child, jambi_network):
    found = receiver_suggestions(case=jambi_child, exclude=[jambi_network["near"].pk, jambi_network["pkh"].pk])
    assert "LKSA-DEKAT" not in codes(found) and "PKH-KOTAJAMBI" not in codes(found)


def test_suggestions_say_whether_the_data_may_be_shared(jambi_child, jambi_network, owner, supervisor):
    consent_to_share(jambi_child, jambi_network["near"], by=owner)
    SharingOverride.objects.create(
        case=jambi_child, organisation=jambi_network["pkh"], reason="Darurat.", decided_by=supervisor
    )
    withdrawn = consent_to_share(jambi_child, jambi_network["far"], by=owner)
    withdrawn.withdrawn_on = timezone.localdate()
    withdrawn.save()
    found = receiver_suggestions(case=jambi_child)
    assert by_code(found, "LKSA-DEKAT").sharing == "consent"
    assert by_code(found, "PKH-KOTAJAMBI").sharing == "override"
    assert by_code(found, "BALAI-JAUH").sharing == ""
    assert not found.all_shared


def test_without_a_village_the_kab_kota_is_used(org, owner, jambi_network):
    child = BeneficiaryFactory(organisation=org, created_by=owner, regency_code="1571")
    case = open_case(organisation=org, by=owner, beneficiary=child)
    found = receiver_suggestions(case=case)
    assert found.place.code == "1571"
    assert "TKSK-TELANAI" not in codes(found)  # covers a district only: not known to be the child's
    assert {"DISDIK-JAMBI", "PKH-KOTAJAMBI", "LKSA-DEKAT"} <= set(codes(found))


def test_without_any_place_nothing_is_suggested(case, jambi_network):
    found = receiver_suggestions(case=case)
    assert found.rows == [] and found.place is None


def test_the_child_in_padang_gets_padang_suggestions(org, owner, jambi_network):
    child = BeneficiaryFactory(organisation=org, created_by=owner, village=village(LUBUK_MINTURUN), regency_code="1371")
    case = open_case(organisation=org, by=owner, beneficiary=child)
    found = receiver_suggestions(case=case, components=[component()])
    assert "DINSOS-PADANG" in codes(found) and "PKH-PADANG" in codes(found)
    assert "PKH-KOTAJAMBI" not in codes(found) and "TKSK-TELANAI" not in codes(found)
    lksa = by_code(found, "LKSA-DEKAT")  # Jambi's LKSA are hundreds of km away, but still the nearest
    assert lksa.distance_km > 300
    assert not math.isnan(lksa.distance_km)


def test_the_form_shows_the_suggestions_with_reasons_and_consent(en, jambi_child, jambi_network, owner, other_org):
    consent_to_share(jambi_child, jambi_network["near"], by=owner)
    page = text(en(owner).get(send_url(jambi_child), {"kind": "service", "components": [component().pk]}))
    assert page.count('data-testid="suggestion"') == 7
    assert "5.0 km away" in page and "15 free places" in page
    assert "serves Telanaipura (district (kecamatan)), where the child lives" in page
    assert "the PKH unit for Kota Jambi" in page
    assert 'data-sharing="consent"' in page and 'data-sharing="none"' in page
    # Choosing a suggestion keeps the other parameters.
    near = jambi_network["near"]
    assert f"?kind=service&amp;components={component().pk}&amp;receiver={near.pk}" in page
    # Any active organisation can be chosen, not only the suggested ones.
    assert f'<option value="{other_org.pk}"' in page
    assert f'<option value="{jambi_network["closed"].pk}"' not in page


def test_the_suggestions_follow_the_services_chosen(en, jambi_child, jambi_network, owner):
    url = reverse("referrals:send_suggestions", args=[jambi_child.pk])
    both = [component("terapi").pk, component("vokasional").pk]
    response = en(owner).get(url, {"kind": "service", "components": both})
    assert response.status_code == 200
    page = text(response)
    assert page.startswith('\n<div id="send-suggestions"') or 'id="send-suggestions"' in page
    assert "<html" not in page
    assert page.index("Balai Jauh") < page.index("LKSA Dekat")
    response = en(owner).get(url, {"kind": "handover", "handover_reason": "school"})
    page = text(response)
    assert "the office for: Return to school (Dinas Pendidikan)" in page


def test_a_suggestion_link_presets_the_receiver(en, jambi_child, jambi_network, owner):
    near = jambi_network["near"]
    response = en(owner).get(send_url(jambi_child), {"receiver": near.pk, "kind": "transfer"})
    form = response.context["form"]
    assert form.initial["receiver"] == near.pk and form.initial["kind"] == "transfer"
    assert f'<option value="{near.pk}" selected>' in text(response)


def test_send_initial_ignores_junk(case, owner):
    initial, notes = send_initial(
        case=case, user=owner, query={"kind": "bogus", "plan_item": "abc", "resend": "99999999999999", "receiver": "x"}
    )
    assert initial == {}
    assert len(notes) == 2


def test_the_chosen_receiver_is_marked_among_the_suggestions(en, jambi_child, jambi_network, owner):
    near = jambi_network["near"]
    url = reverse("referrals:send_suggestions", args=[jambi_child.pk])
    page = text(en(owner).get(url, {"receiver": near.pk}))
    assert f'list-group-item-primary" data-suggestion="{near.pk}"' in page
    assert page.count("list-group-item-primary") == 1


def test_the_form_starts_as_a_service_referral(en, case, owner):
    page = text(en(owner).get(send_url(case)))
    checked = re.findall(r'<input type="radio"[^>]*name="kind" value="(\w+)"[^>]*checked>', page)
    assert checked == ["service"]
