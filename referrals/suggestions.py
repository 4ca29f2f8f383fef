"""Who to refer a child to: the receivers the send form suggests, and why.

Three sources, merged into one list (an organisation found twice is shown once, with
every reason):

- organisations that cover the child's village (stakeholders.selectors.organisations_covering),
  the most local coverage first; for a handover, those of the kind the handover goes to
  (Dinas Pendidikan for school, Dukcapil for identity papers...) before the others;
- LKSA and Balai near the child (stakeholders.finder.nearest_organisations) that serve the
  case's cluster, those offering every requested service and with free places first,
  then the nearest;
- the PKH unit of the child's kab/kota.

The case's own organisation, inactive organisations and any `exclude`d one (the one that
declined, on a re-send) are never suggested. Each row says whether the child's data may
already be shared with the organisation (consent or a supervisor's override), so the
worker sees it before sending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.db.models import Case as CaseWhen  # Django's conditional expression, not the case model
from django.db.models import IntegerField, Max, Value, When
from django.db.models.functions import Length
from django_stubs_ext import WithAnnotations

from atensi.core.errors import ApplicationError
from atensi.core.models import ServiceComponent
from cases.documents import sharing_bases
from cases.models import Case
from stakeholders.finder import nearest_organisations
from stakeholders.models import Organisation, OrganisationKind, Region
from stakeholders.selectors import organisations_covering

from .models import HandoverReason, ReferralKind

COVERING_SHOWN = 8
NEAREST_CANDIDATES = 20  # the finder's nearest, re-ranked by services and free places
NEAREST_SHOWN = 5
PKH_SHOWN = 3

RESIDENTIAL_KINDS = (OrganisationKind.LKSA, OrganisationKind.BALAI)

# Where each ready-made handover goes.
HANDOVER_KINDS: dict[str, str] = {
    HandoverReason.SCHOOL: OrganisationKind.EDUCATION,
    HandoverReason.CIVIL_REGISTRY: OrganisationKind.DUKCAPIL,
    HandoverReason.WORK: OrganisationKind.LABOUR,
    HandoverReason.HEALTH: OrganisationKind.HEALTH,
    HandoverReason.RELIGION: OrganisationKind.KEMENAG,
    HandoverReason.FAMILY_SUPPORT: OrganisationKind.PKH,
}


@dataclass
class Suggestion:
    """One suggested receiver and the reasons it is suggested."""

    organisation: Organisation
    kind_label: str = ""
    covers: Region | None = None  # the most local region of the child's it covers
    handles: str = ""  # the handover reason (label) it is the right kind of office for
    distance_km: float | None = None  # set when the finder ranked it
    offers: list[ServiceComponent] = field(default_factory=list)  # requested services it offers
    lacks: list[ServiceComponent] = field(default_factory=list)  # requested services it does not list
    pkh_for: Region | None = None  # the kab/kota whose PKH unit it is
    sharing: str = ""  # SharingBasis kind ("consent" or "override"), "" when none yet

    @property
    def ranked_by_distance(self) -> bool:
        return self.distance_km is not None

    @property
    def free_places(self) -> int | None:
        return self.organisation.free_places


@dataclass
class ReceiverSuggestions:
    rows: list[Suggestion]
    # Where the child lives as far as the record says (a village, else the kab/kota).
    place: Region | None
    regency: Region | None
    # Why the nearest LKSA/Balai could not be ranked (no place on the map), if so.
    distance_problem: str = ""

    @property
    def all_shared(self) -> bool:
        """Every suggestion may already receive the child's data (consent or override)."""
        return all(row.sharing for row in self.rows)


class _Rows(dict[int, Suggestion]):
    """Suggestions by organisation id, in the order first found."""

    def __init__(self, *, kind_labels: dict[str, Any]) -> None:
        super().__init__()
        self.kind_labels = kind_labels

    def for_org(self, org: Organisation) -> Suggestion:
        if org.pk not in self:
            self[org.pk] = Suggestion(organisation=org, kind_label=str(self.kind_labels.get(org.kind, org.kind)))
        return self[org.pk]

    def add_covering(
        self,
        covering: list[WithAnnotations[Organisation, _Covered]],
        regions: dict[str, Region],
        handover_kind: str,
        handles: str,
    ) -> None:
        for org in covering:
            suggestion = self.for_org(org)
            suggestion.covers = regions.get(org.covered_code or "")
            if handover_kind and org.kind == handover_kind:
                suggestion.handles = handles

    def add_nearest(self, nearest: list[_Near]) -> None:
        for near in nearest:
            suggestion = self.for_org(near.organisation)
            suggestion.distance_km = near.distance_km
            suggestion.offers = near.offers
            suggestion.lacks = near.lacks


def _child_place(case: Case) -> tuple[Region | None, dict[str, Region]]:
    """The child's village (else kab/kota) and its regions up to the province, by code."""
    beneficiary = case.beneficiary
    code = beneficiary.village_id or beneficiary.regency_code
    if not code:
        return None, {}
    codes = [code[:n] for n in (10, 6, 4, 2) if len(code) >= n]
    regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return regions.get(code), regions


def receiver_suggestions(
    *,
    case: Case,
    kind: str = "",
    components: Iterable[ServiceComponent] = (),
    handover_reason: str = "",
    exclude: Iterable[int] = (),
) -> ReceiverSuggestions:
    """The organisations to suggest as receivers of a referral of `case` (see the module)."""
    place, regions = _child_place(case)
    if place is None:
        return ReceiverSuggestions(rows=[], place=None, regency=None)
    regency = regions.get(place.code[:4])
    excluded = {case.organisation_id, *exclude}
    requested = list(components)
    handover_kind = HANDOVER_KINDS.get(handover_reason, "") if kind == ReferralKind.HANDOVER else ""
    rows = _Rows(kind_labels=dict(OrganisationKind.choices))
    covering = _covering(place, excluded=excluded, first_kind=handover_kind)
    nearest, problem = _nearest(case, place, excluded=excluded, requested=requested)
    pkh = (
        list(organisations_covering(region=regency, kinds=[OrganisationKind.PKH]).exclude(pk__in=excluded)[:PKH_SHOWN])
        if regency is not None
        else []
    )
    # A handover goes to an office covering the area; a service or a transfer mostly to
    # an LKSA or Balai nearby.
    handles = str(HandoverReason(handover_reason).label) if handover_kind else ""
    if kind == ReferralKind.HANDOVER:
        rows.add_covering(covering, regions, handover_kind, handles)
        rows.add_nearest(nearest)
    else:
        rows.add_nearest(nearest)
        rows.add_covering(covering, regions, handover_kind, handles)
    for org in pkh:
        rows.for_org(org).pkh_for = regency

    found = list(rows.values())
    bases = sharing_bases(case=case, organisation_ids=[s.organisation.pk for s in found])
    for suggestion in found:
        suggestion.sharing = bases.get(suggestion.organisation.pk, "")
    return ReceiverSuggestions(rows=found, place=place, regency=regency, distance_problem=problem)


class _Covered(TypedDict):
    covered_code: str | None  # the most local of the child's regions it covers
    kind_rank: int


def _covering(place: Region, *, excluded: set[int], first_kind: str) -> list[WithAnnotations[Organisation, _Covered]]:
    # Of the covered regions matched (all prefixes of the child's village code), the
    # longest code is the most local one: a district office before a province-wide one.
    qs = (
        organisations_covering(region=place)
        .exclude(pk__in=excluded)
        .annotate(covered_code=Max("coverage__code"))
        .annotate(
            kind_rank=CaseWhen(
                When(kind=first_kind or "-", then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("kind_rank", Length("covered_code").desc(), "name", "pk")
    )
    return list(qs[:COVERING_SHOWN])


@dataclass(frozen=True)
class _Near:
    """An LKSA/Balai near the child, and which of the requested services it offers."""

    organisation: Organisation
    distance_km: float
    offers: list[ServiceComponent]
    lacks: list[ServiceComponent]


def _nearest(
    case: Case, place: Region, *, excluded: set[int], requested: list[ServiceComponent]
) -> tuple[list[_Near], str]:
    """The nearest LKSA/Balai serving the case's cluster, those offering every requested
    service first, then those with free places, then by distance."""
    try:
        found = nearest_organisations(
            origin=place, kinds=RESIDENTIAL_KINDS, cluster=case.cluster, limit=NEAREST_CANDIDATES
        )
    except ApplicationError as exc:
        return [], str(exc)
    found = [org for org in found if org.pk not in excluded]
    offered: dict[int, set[int]] = {}
    if requested and found:
        pairs = Organisation.components.through.objects.filter(
            organisation_id__in=[o.pk for o in found], servicecomponent_id__in=[c.pk for c in requested]
        ).values_list("organisation_id", "servicecomponent_id")
        for org_id, component_id in pairs:
            offered.setdefault(org_id, set()).add(component_id)
    near = [
        _Near(
            organisation=org,
            distance_km=org.distance_km,
            offers=[c for c in requested if c.pk in offered.get(org.pk, set())],
            lacks=[c for c in requested if c.pk not in offered.get(org.pk, set())],
        )
        for org in found
    ]
    near.sort(key=lambda n: (len(n.lacks), n.organisation.free_places == 0, n.distance_km))
    return near[:NEAREST_SHOWN], ""
