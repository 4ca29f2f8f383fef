"""On the demo data: Rizky's mother asks Balai Anak "Alyatama" for the data it holds about
him. `supervisor.alyatama` records the request from Rizky's page, makes the file, downloads
the ZIP (his record, his case, his documents, who saw them), and closes the request as
answered; the register shows it answered."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from atensi.core import exports
from cases.models import Case, SubjectAccessRequest

from .conftest import Devices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_supervisor_answers_a_request_for_a_childs_data(devices: Devices) -> None:
    call_command("load_demo")
    devices.password = settings.ATENSI_DEMO_PASSWORD
    case = Case.objects.get(organisation__code="BA-ALYATAMA", beneficiary__full_name="Muhammad Rizky Pratama")
    boss = devices("supervisor.alyatama")

    boss.goto("/")
    boss.get_by_test_id("user-menu").click()
    boss.get_by_test_id("subject-access-link").click()
    boss.wait_for_url("**/subject-access/")
    expect(boss.get_by_test_id("subject-access-none-open")).to_be_visible()

    boss.goto(f"/cases/beneficiaries/{case.beneficiary_id}/")
    boss.get_by_test_id("subject-access-record").click()
    boss.wait_for_url("**/subject-access/")
    boss.fill("input[name=requester_name]", "Siti Aminah")
    boss.select_option("select[name=requester_relation]", "mother")
    boss.fill("textarea[name=notes]", "Datang ke kantor membawa KTP dan KK.")
    boss.get_by_test_id("subject-access-save").click()
    boss.wait_for_url("**/subject-access/*/")
    expect(boss.get_by_test_id("subject-access-status")).to_have_text("Terbuka")
    request = SubjectAccessRequest.objects.get()
    assert request.requester_name == "Siti Aminah" and request.organisation.code == "BA-ALYATAMA"

    boss.get_by_test_id("subject-access-make-file").click()
    boss.wait_for_url(f"**/subject-access/{request.pk}/")
    request.refresh_from_db()
    assert exports.run_export(request.bundle_id) == "done"
    boss.reload()
    with boss.expect_download() as info:
        boss.get_by_test_id("export-download").click()
    download = info.value
    assert download.suggested_filename.startswith("subject-access-") and download.suggested_filename.endswith(".zip")
    bundle = zipfile.ZipFile(io.BytesIO(download.path().read_bytes()))
    data = json.loads(bundle.read("data.json"))
    assert data["identity"][0]["full_name"] == "Muhammad Rizky Pratama"
    assert [c["number"] for c in data["cases"]] == [case.number]
    assert "BACA-SAYA.txt" in bundle.namelist()
    for document in data["documents"]:
        assert bundle.read(document["file"]), document["file"]

    boss.get_by_test_id("subject-access-close-form").get_by_label(
        "Dijawab: yang bersangkutan telah menerima datanya"
    ).check()
    boss.fill("textarea[name=answer]", "Berkas ZIP diserahkan langsung kepada ibu Siti Aminah.")
    boss.get_by_test_id("subject-access-close").click()
    expect(boss.get_by_test_id("subject-access-status")).to_have_text("Dijawab")
    expect(boss.get_by_test_id("subject-access-answer")).to_contain_text("diserahkan langsung")
    boss.goto("/subject-access/")
    expect(boss.get_by_test_id("subject-access-closed")).to_contain_text("Siti Aminah")
    assert devices.csp_violations == []
