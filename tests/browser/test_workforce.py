"""A social worker looks up field workers by kind and region, calls one, and exports the list."""

from __future__ import annotations

from pathlib import Path

import pytest

from stakeholders.models import Region, WorkforceKind, WorkforceMember
from stakeholders.roles import Role
from stakeholders.tests.factories import PASSWORD, member

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def worker(organisation, name, kind, regions, nik, **fields):
    w = WorkforceMember.objects.create(organisation=organisation, name=name, kind=kind, nik=nik, **fields)
    w.regions.set(Region.objects.filter(code__in=regions))
    return w


def test_social_worker_filters_the_registry_and_exports_it(page, org, other_org):
    member(organisation=org, role=Role.SOCIAL_WORKER, username="rina")
    ani = worker(org, "Ani TKSK", WorkforceKind.TKSK, ["157101"], "1571010101900001", phone="0812 3456 7890")
    worker(other_org, "Budi PSM", WorkforceKind.PSM, ["15"], "1571010101900002")
    worker(other_org, "Citra Padang", WorkforceKind.TKSK, ["1371"], "1571010101900003")

    login(page, "rina", PASSWORD)
    page.goto("/workforce/")
    table = page.get_by_test_id("workforce-table")
    assert table.get_by_test_id("workforce-row").count() == 3
    # A social worker sees NIKs masked, even for her own organisation's workers.
    assert ani.nik not in table.inner_text()
    assert ani.masked_nik in table.inner_text()

    page.get_by_test_id("workforce-filter").locator("input[name=kind][value=tksk]").check()
    page.get_by_test_id("workforce-filter").locator("button[type=submit]").click()
    page.wait_for_url("**/workforce/?*kind=tksk*")
    rows = page.get_by_test_id("workforce-row")
    assert rows.all_inner_texts()[0].startswith("Ani TKSK") and rows.count() == 2
    assert rows.first.locator("a[href^='tel:']").get_attribute("href") == "tel:081234567890"

    # Kota Jambi: the TKSK of Telanaipura district is inside it; the Padang one is not.
    page.goto("/workforce/?kind=tksk&region=1571")
    assert page.get_by_test_id("workforce-row").all_inner_texts()[0].startswith("Ani TKSK")
    assert page.get_by_test_id("workforce-row").count() == 1

    with page.expect_download() as download_info:
        page.get_by_test_id("workforce-export").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert "Ani TKSK" in text and "Citra Padang" not in text
    assert ani.masked_nik in text and ani.nik not in text
    assert page.csp_violations == []
