"""Agreements (MoU/PKS): the services' rules, the PDF check, status by date, and the pages."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from atensi.core.errors import ApplicationError
from atensi.core.models import AccessLog
from atensi.testing.files import pdf_bytes
from stakeholders import agreements, services
from stakeholders.models import Agreement, AgreementStatus
from stakeholders.tests.factories import OrganisationFactory, UserFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English, whatever the Indonesian catalogue says.
    with translation.override("en"):
        yield


TODAY = datetime.date(2026, 3, 2)
# 2 March 2026, 10:00 in Jakarta.
FROZEN = datetime.datetime(2026, 3, 2, 3, 0, tzinfo=datetime.UTC)
MINIMAL_PDF = pdf_bytes()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LIST = reverse("stakeholders:agreement_list")


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def pdf(name: str = "mou.pdf", content: bytes = MINIMAL_PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path) -> Path:
    """Uploaded documents go to this test's own directory."""
    root = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def make(by, parties, *, number="001/MOU/2026", valid_from=None, valid_until=None, signed_on=None, **kw) -> Agreement:
    return services.agreement_create(
        by=by,
        number=number,
        title=kw.pop("title", "Rujukan anak"),
        scope=kw.pop("scope", "Rujukan dan pendampingan anak"),
        signed_on=signed_on or days(-30),
        valid_from=valid_from or days(-30),
        valid_until=valid_until or days(365),
        parties=parties,
        today=kw.pop("today", TODAY),
        **kw,
    )


def form_data(**overrides) -> dict:
    data = {
        "number": "002/PKS/2026",
        "title": "Pendampingan disabilitas",
        "scope": "Layanan bersama",
        "signed_on": days(-10).isoformat(),
        "valid_from": days(-10).isoformat(),
        "valid_until": days(400).isoformat(),
    }
    data.update(overrides)
    return data


# --- Services ----------------------------------------------------------------------------


def test_org_admin_records_an_agreement_with_a_pdf(org_admin, org, other_org, private_storage):
    agreement = make(org_admin, [org, other_org, org], document=pdf("Perjanjian Kerja Sama.pdf"))
    assert set(agreement.parties.all()) == {org, other_org}
    assert agreement.created_by == org_admin
    # Stored under a random name in private storage, never the uploaded file's name.
    name = agreement.document.name or ""
    assert name.startswith("agreements/") and name.endswith(".pdf")
    assert "Perjanjian" not in name
    assert [p.read_bytes() for p in stored_files(private_storage)] == [MINIMAL_PDF]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"signed_on": days(1)}, "signed_on"),
        ({"valid_from": days(10), "valid_until": days(9)}, "valid_until"),
        ({"number": "  "}, "number"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_dates_and_blanks_are_refused_at_their_field(org_admin, org, other_org, changes, field):
    with pytest.raises(ApplicationError) as exc:
        make(org_admin, [org, other_org], **changes)
    assert exc.value.field == field
    assert Agreement.objects.count() == 0


def test_signed_after_it_took_effect_is_fine_but_not_in_the_future(org_admin, org, other_org):
    agreement = make(org_admin, [org, other_org], signed_on=TODAY, valid_from=days(-60))
    assert agreement.signed_on == TODAY


def test_one_party_is_not_an_agreement(org_admin, org):
    with pytest.raises(ApplicationError) as exc:
        make(org_admin, [org, org])
    assert exc.value.field == "parties"


def test_only_an_admin_of_a_party_may_record_it(owner, outsider, superuser, org, other_org):
    third = OrganisationFactory(code="LKSA-3", name="LKSA Ketiga")
    with pytest.raises(ApplicationError):
        make(owner, [org, other_org])  # a social worker of a party
    with pytest.raises(ApplicationError):
        make(outsider, [org, third])  # an admin, but of neither party
    assert Agreement.objects.count() == 0
    assert make(superuser, [org, third]).parties.count() == 2


def test_an_inactive_organisation_cannot_become_a_party(org_admin, org):
    closed = OrganisationFactory(code="TUTUP", name="Sudah Tutup", is_active=False)
    with pytest.raises(ApplicationError) as exc:
        make(org_admin, [org, closed])
    assert exc.value.field == "parties"


def test_the_same_number_between_the_same_organisations_is_refused(org_admin, org, other_org):
    make(org_admin, [org, other_org], number="001/MOU/2026")
    with pytest.raises(ApplicationError) as exc:
        make(org_admin, [org, other_org], number="001/mou/2026")
    assert exc.value.field == "number"
    assert Agreement.objects.count() == 1


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("scan.pdf", PNG, content_type="application/pdf"), "not a PDF"),
        (SimpleUploadedFile("mou.docx", MINIMAL_PDF), ".pdf"),
        (SimpleUploadedFile("kosong.pdf", b""), "empty"),
    ],
)
def test_a_file_that_is_not_a_pdf_is_refused_and_nothing_is_saved(
    org_admin, org, other_org, private_storage, upload, message
):
    with pytest.raises(ApplicationError) as exc:
        make(org_admin, [org, other_org], document=upload)
    assert exc.value.field == "document"
    assert message in str(exc.value)
    assert Agreement.objects.count() == 0
    assert stored_files(private_storage) == []


def test_an_oversize_pdf_is_refused(settings, org_admin, org, other_org, private_storage):
    settings.ATENSI_AGREEMENT_MAX_BYTES = 100
    with pytest.raises(ApplicationError) as exc:
        make(org_admin, [org, other_org], document=pdf(content=MINIMAL_PDF + b"0" * 100))
    assert exc.value.field == "document"
    assert "100" in str(exc.value)
    assert Agreement.objects.count() == 0
    assert stored_files(private_storage) == []


def test_the_default_size_limit_is_ten_megabytes(settings):
    from atensi.settings import base

    assert base.ATENSI_AGREEMENT_MAX_BYTES == 10 * 1024 * 1024


def test_admin_of_the_other_party_updates_and_replaces_the_document(
    org_admin, outsider, org, other_org, private_storage, django_capture_on_commit_callbacks
):
    agreement = make(org_admin, [org, other_org], document=pdf())
    old = agreement.document.name
    new_pdf = pdf_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        services.agreement_update(
            agreement=agreement, by=outsider, valid_until=days(700), document=pdf(content=new_pdf), today=TODAY
        )
    agreement.refresh_from_db()
    assert agreement.valid_until == days(700)
    assert agreement.document.name != old
    assert [p.read_bytes() for p in stored_files(private_storage)] == [new_pdf]


def test_update_refuses_strangers_and_leaving_no_party_one_administers(org_admin, outsider, org, other_org):
    third = OrganisationFactory(code="LKSA-3", name="LKSA Ketiga")
    stranger = member(organisation=third, role="org_admin", username="stranger")
    agreement = make(org_admin, [org, other_org])
    with pytest.raises(ApplicationError):
        services.agreement_update(agreement=agreement, by=stranger, title="Diubah", today=TODAY)
    with pytest.raises(ApplicationError) as exc:
        services.agreement_update(agreement=agreement, by=org_admin, parties=[other_org, third], today=TODAY)
    assert exc.value.field == "parties"
    agreement.refresh_from_db()
    assert agreement.title == "Rujukan anak"
    assert set(agreement.parties.all()) == {org, other_org}


def test_a_former_party_that_closed_may_stay_a_party(org_admin, org, other_org):
    agreement = make(org_admin, [org, other_org])
    other_org.is_active = False
    other_org.save(update_fields=["is_active"])
    services.agreement_update(agreement=agreement, by=org_admin, parties=[org, other_org], title="Baru", today=TODAY)
    agreement.refresh_from_db()
    assert agreement.title == "Baru"


# --- Status by date -------------------------------------------------------------------------


@pytest.fixture
def by_status(org_admin, org, other_org):
    """One agreement per status on TODAY (expiring: within 60 days, inclusive)."""
    return {
        "upcoming": make(org_admin, [org, other_org], number="U", signed_on=days(-1), valid_from=days(5)),
        "active": make(org_admin, [org, other_org], number="A", valid_until=days(61)),
        "expiring": make(org_admin, [org, other_org], number="E", valid_until=days(60)),
        "expiring_today": make(org_admin, [org, other_org], number="T", valid_until=TODAY),
        "expired": make(org_admin, [org, other_org], number="X", valid_from=days(-400), valid_until=days(-1)),
    }


def test_status_filter_is_computed_by_the_database(org_admin, by_status):
    def numbers(status: str) -> set[str]:
        return {a.number for a in agreements.agreement_list(user=org_admin, status=status, today=TODAY)}

    assert numbers(AgreementStatus.ACTIVE) == {"A"}
    assert numbers(AgreementStatus.EXPIRING) == {"E", "T"}
    assert numbers(AgreementStatus.EXPIRED) == {"X"}
    assert numbers(AgreementStatus.UPCOMING) == {"U"}
    assert numbers("") == {"U", "A", "E", "T", "X"}


def test_database_status_agrees_with_the_model_on_every_day(org_admin, by_status):
    for offset in range(-3, 70, 1):
        day = days(offset)
        for a in agreements.agreement_list(user=org_admin, today=day):
            assert a.status_now == a.status(day), (a.number, day)


@time_machine.travel(FROZEN, tick=False)
def test_list_shows_status_badges_for_today(client_for, org_admin, by_status):
    response = client_for(org_admin).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("active", "expiring", "expired"):
        assert f'data-agreement="{by_status[key].pk}"' in html
    rows = {a.number: a.status_now for a in response.context["page"]}
    assert rows == {"U": "upcoming", "A": "active", "E": "expiring", "T": "expiring", "X": "expired"}
    assert html.count('data-status="expiring"') == 2
    filtered = client_for(org_admin).get(LIST, {"status": "expired"})
    assert [a.number for a in filtered.context["page"]] == ["X"]


def test_list_with_an_unknown_status_shows_everything_and_an_error(client_for, org_admin, by_status):
    response = client_for(org_admin).get(LIST, {"status": "sideways"})
    assert response.status_code == 200
    assert "status" in response.context["form"].errors
    assert len(response.context["page"].object_list) == 5


# --- Pages ---------------------------------------------------------------------------------


def new_url(org) -> str:
    return reverse("stakeholders:agreement_create", args=[org.pk])


def edit_url(agreement) -> str:
    return reverse("stakeholders:agreement_edit", args=[agreement.pk])


def document_url(agreement) -> str:
    return reverse("stakeholders:agreement_document", args=[agreement.pk])


@time_machine.travel(FROZEN, tick=False)
def test_org_admin_creates_an_agreement_on_the_page(client_for, org_admin, org, other_org, private_storage):
    client = client_for(org_admin)
    form = client.get(new_url(org)).context["form"]
    choices = list(form.fields["parties"].queryset)
    assert other_org in choices and org not in choices  # the host is a party already
    response = client.post(new_url(org), {**form_data(), "parties": [other_org.pk], "document": pdf()})
    assert response.status_code == 302 and response["Location"] == LIST
    agreement = Agreement.objects.get()
    assert set(agreement.parties.all()) == {org, other_org}
    assert agreement.document and len(stored_files(private_storage)) == 1
    listed = client.get(LIST)
    assert [a.status_now for a in listed.context["page"]] == ["active"]


@time_machine.travel(FROZEN, tick=False)
def test_bad_input_on_the_page_is_explained_and_saves_nothing(
    client_for, org_admin, org, other_org, private_storage, settings
):
    client = client_for(org_admin)
    cases = [
        ({**form_data(), "parties": [other_org.pk], "document": pdf("foto.pdf", PNG)}, "document"),
        ({**form_data(), "parties": []}, "parties"),
        ({**form_data(), "parties": [999999]}, "parties"),
        ({**form_data(signed_on=days(3).isoformat()), "parties": [other_org.pk]}, "signed_on"),
        ({**form_data(valid_until=days(-20).isoformat()), "parties": [other_org.pk]}, "valid_until"),
        ({**form_data(valid_from="kemarin"), "parties": [other_org.pk]}, "valid_from"),
    ]
    for data, field in cases:
        response = client.post(new_url(org), data, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, field
        assert field in response.context["form"].errors, (field, response.context["form"].errors)
    settings.ATENSI_AGREEMENT_MAX_BYTES = 50
    response = client.post(new_url(org), {**form_data(), "parties": [other_org.pk], "document": pdf()})
    assert "document" in response.context["form"].errors
    assert Agreement.objects.count() == 0
    assert stored_files(private_storage) == []


def test_only_admins_of_the_organisation_may_open_the_new_agreement_page(
    client_for, owner, supervisor, outsider, org, other_org
):
    for user in (owner, supervisor, outsider):
        client = client_for(user)
        assert client.get(new_url(org)).status_code == 404
        assert client.post(new_url(org), {**form_data(), "parties": [other_org.pk]}).status_code == 404
    assert client_for(outsider).get("/organisations/abc/agreements/new/").status_code == 404
    assert Agreement.objects.count() == 0


@time_machine.travel(FROZEN, tick=False)
def test_admin_of_any_party_edits_and_others_get_404(client_for, org_admin, outsider, owner, org, other_org):
    agreement = make(org_admin, [org, other_org])
    third = OrganisationFactory(code="LKSA-3", name="LKSA Ketiga")
    stranger = member(organisation=third, role="org_admin", username="stranger")
    assert client_for(stranger).get(edit_url(agreement)).status_code == 404
    assert client_for(owner).get(edit_url(agreement)).status_code == 404  # a party's social worker
    assert client_for(stranger).post(edit_url(agreement), form_data()).status_code == 404
    client = client_for(outsider)
    form = client.get(edit_url(agreement)).context["form"]
    assert set(form.initial["parties"]) == {org.pk, other_org.pk}
    data = {**form_data(title="Judul baru"), "parties": [org.pk, other_org.pk, third.pk]}
    assert client.post(edit_url(agreement), data).status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "Judul baru"
    assert set(agreement.parties.all()) == {org, other_org, third}


@time_machine.travel(FROZEN, tick=False)
def test_edit_with_bad_input_changes_nothing(client_for, org_admin, org, other_org):
    agreement = make(org_admin, [org, other_org])
    response = client_for(org_admin).post(
        edit_url(agreement), {**form_data(title="Tidak jadi"), "parties": [other_org.pk]}
    )
    assert response.status_code == 200
    assert "parties" in response.context["form"].errors
    agreement.refresh_from_db()
    assert agreement.title == "Rujukan anak"
    assert set(agreement.parties.all()) == {org, other_org}


def test_the_list_shows_only_the_users_organisations_agreements(client_for, org_admin, outsider, owner, org, other_org):
    third = OrganisationFactory(code="LKSA-3", name="LKSA Ketiga")
    mine = make(org_admin, [org, third], number="MINE")
    make(outsider, [other_org, third], number="THEIRS")
    rows = client_for(owner).get(LIST).context["page"]
    assert [a.number for a in rows] == [mine.number]
    assert not rows[0].can_edit  # a social worker reads, does not edit
    admin_rows = client_for(org_admin).get(LIST).context["page"]
    assert [(a.number, a.can_edit) for a in admin_rows] == [("MINE", True)]
    loner = UserFactory(username="loner")
    assert list(client_for(loner).get(LIST).context["page"]) == []


def test_list_query_count(client_for, org_admin, org, django_assert_max_num_queries):
    others = [OrganisationFactory() for _ in range(5)]
    for i in range(40):
        make(org_admin, [org, others[i % 5], others[(i + 1) % 5]], number=f"{i:03d}/MOU", document=None)
    client = client_for(org_admin)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert len(response.context["page"].object_list) == 40


# --- The document -----------------------------------------------------------------------------


def test_a_party_member_opens_the_pdf_and_it_is_logged(client_for, org_admin, owner, outsider, org, other_org):
    agreement = make(org_admin, [org, other_org], document=pdf())
    for user in (owner, outsider):  # a social worker of one party, an admin of the other
        response = client_for(user).get(document_url(agreement))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == MINIMAL_PDF
    assert AccessLog.objects.filter(action="download", target_id=str(agreement.pk)).count() == 2


def test_non_party_member_gets_404_and_anonymous_goes_to_login(client, client_for, org_admin, org, other_org):
    agreement = make(org_admin, [org, other_org], document=pdf())
    third = OrganisationFactory(code="LKSA-3", name="LKSA Ketiga")
    stranger = member(organisation=third, role="org_admin", username="stranger")
    assert client_for(stranger).get(document_url(agreement)).status_code == 404
    response = client.get(document_url(agreement))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_for(org_admin).post(document_url(agreement)).status_code == 405
    assert not AccessLog.objects.filter(action="download").exists()


def test_an_agreement_without_a_document_has_no_pdf(client_for, org_admin, org, other_org):
    agreement = make(org_admin, [org, other_org])
    assert client_for(org_admin).get(document_url(agreement)).status_code == 404


def test_an_agreement_pdf_that_does_not_parse_or_carries_a_script_is_refused(org_admin, org, other_org):
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("payload.exe", b"MZ")
    attached = io.BytesIO()
    writer.write(attached)
    for content, message in (
        (b"%PDF-1.7\n<html><body>not a pdf</body></html>", "cannot be read"),
        (attached.getvalue(), "scripts or attached files"),
    ):
        with translation.override("en"), pytest.raises(ApplicationError, match=message):
            make(org_admin, [org, other_org], document=pdf(content=content))
    assert not Agreement.objects.exists()
