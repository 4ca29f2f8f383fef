"""factory_boy factories for the case file. Cases are opened through the service, so
numbers, the timeline and the constraints are the real ones."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from atensi.core.models import Cluster
from atensi.testing.second_factor import Client
from cases.models import Basis, Beneficiary, Case, CaseSource, RecipientVia, Report, ReportRecipient, Sex
from stakeholders.models import Region


def cluster(code: str = "anak") -> Cluster:
    return Cluster.objects.get(code=code)


def village(code: str = "1571011004") -> Region:
    """A village of the test regions (default: Telanaipura, Kota Jambi)."""
    return Region.objects.get(code=code)


class BeneficiaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Beneficiary

    full_name = factory.Sequence(lambda n: f"Anak Uji {n}")
    sex = Sex.MALE
    birth_date = datetime.date(2015, 5, 17)
    cluster = factory.LazyFunction(cluster)
    organisation = None  # required: pass organisation=
    created_by = None  # required: pass created_by=


def open_case(
    *,
    organisation: Any,
    by: Any,
    beneficiary: Beneficiary | None = None,
    case_manager: Any = None,
    **kwargs: Any,
) -> Case:
    """A case opened through the service by `by` (who must work cases in `organisation`)."""
    from cases.services import case_open

    if beneficiary is None:
        beneficiary = BeneficiaryFactory.create(organisation=organisation, created_by=by)
    kwargs.setdefault("cluster", cluster())
    kwargs.setdefault("basis", Basis.KELUARGA)
    kwargs.setdefault("source", CaseSource.WALK_IN)
    return case_open(
        organisation=organisation,
        beneficiary=beneficiary,
        opened_by=by,
        case_manager=case_manager if case_manager is not None else by,
        **kwargs,
    )


def report_for(*, organisation: Any, by: Any, **fields: Any) -> Report:
    """A waiting report routed to `organisation`'s intake queue (bypassing routing)."""
    fields.setdefault("reporter_kind", "psm")
    fields.setdefault("reporter_name", "Yusuf PSM")
    fields.setdefault("narrative", "Anak terlihat tidur di pasar setiap malam.")
    fields.setdefault("village", village())
    report = Report.objects.create(recorded_by=by, **fields)
    ReportRecipient.objects.create(report=report, organisation=organisation, via=RecipientVia.COVERAGE)
    return report


def logged_in(user: Any) -> Client:
    """A client logged in as `user` that answers a view's crash with a 500 instead of raising."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client
