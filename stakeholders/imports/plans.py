"""Plans: every row of a file validated against the register as it is now, giving the
normalised rows, the row errors and (without errors) the objects to write.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from atensi.core.access import actor_for
from atensi.core.errors import ApplicationError
from atensi.core.geo import in_indonesia
from atensi.core.models import Cluster, ServiceComponent
from atensi.core.values import mask_nik, normalise_nik

from .. import services
from ..models import ImportKind, Organisation, OrganisationKind, Region, User, WorkforceKind, WorkforceMember
from .cells import (
    ORGANISATION_KIND_EXTRAS,
    WORKFORCE_KIND_EXTRAS,
    WORKFORCE_KIND_NAMES,
    CellError,
    ReferenceIndex,
    RegionIndex,
    choice_index,
    choice_key,
    choice_names,
    code_of,
    name_key,
    parse_accreditation,
    parse_coordinate,
    parse_count,
    parse_date,
    parse_email,
    parse_nik_cell,
    parse_phone,
    parse_yes_no,
    regency_keys,
    region_label,
)
from .rows import Plan, Row, changed_fields, field_errors, snapshot

# Kinds an organisation's admin may register under it; national admins import any kind.
ADMIN_IMPORTABLE_KINDS = (OrganisationKind.LKSA, OrganisationKind.LPKS, OrganisationKind.OTHER)


ORGANISATION_FIELD_COLUMNS = {"home_region": "regency", "village": "village", "parent": "code"}
_ORG_SIMPLE_FIELDS = (
    "name",
    "kind",
    "address",
    "phone",
    "whatsapp",
    "email",
    "capacity",
    "accreditation",
    "accreditation_expires",
    "registration_number",
)
_TEXT_DEFAULTS = {"address", "phone", "whatsapp", "email", "registration_number", "accreditation"}


def plan_organisations(
    *, organisation: Organisation, by: User, rows: Sequence[dict[str, Any]], headers: dict[str, str], lock: bool = False
) -> Plan:
    """Validate organisation rows for `organisation` to import; `lock` the rows it would update."""
    national = actor_for(by).is_superuser
    plan = Plan()
    codes: set[str] = set()
    region_codes: set[str] = set()
    region_names: set[str] = set()
    for raw in rows:
        codes.add(str(raw.get("code") or "").strip().upper())
        for key in ("regency", "village"):
            cell = str(raw.get(key) or "").strip()
            if not cell:
                continue
            code = code_of(cell)
            if code is not None:
                region_codes.add(code)
            else:
                region_names.update(regency_keys(cell) if key == "regency" else [name_key(cell)])
    codes.discard("")
    regions = RegionIndex(codes=region_codes, names=region_names)
    present = set(headers)
    existing_qs: QuerySet[Organisation] = Organisation.objects.filter(code__in=codes).select_related(
        "village", "home_region"
    )
    for m2m in ("clusters", "components"):
        if m2m in present:
            existing_qs = existing_qs.prefetch_related(m2m)
    if lock:
        existing_qs = existing_qs.select_for_update(of=("self",))
    existing = {o.code: o for o in existing_qs} if codes else {}
    kinds = choice_index(OrganisationKind, ORGANISATION_KIND_EXTRAS)
    clusters = ReferenceIndex(Cluster) if "clusters" in present else None
    components = ReferenceIndex(ServiceComponent) if "components" in present else None
    default_scope = organisation.home_region if organisation.home_region_id else None
    seen: dict[str, int] = {}

    def parse_kind(value: str) -> str:
        kind = kinds.get(choice_key(value))
        if kind is None:
            raise CellError(
                _("Unknown kind “%(value)s”. Use one of: %(choices)s.")
                % {"value": value, "choices": choice_names(OrganisationKind.values)}
            )
        return kind

    for raw in rows:
        row = Row(plan, raw, headers)
        code = str(raw.get("code") or "").strip().upper()
        row.out["code"] = code
        current: Organisation | None = None
        if not code:
            row.error("code", _("This cell is required but empty."))
        elif code in seen:
            row.error(
                "code", _("The code %(code)s is already used in row %(row)s.") % {"code": code, "row": seen[code]}
            )
        else:
            seen[code] = row.number
            current = existing.get(code)
            if current is not None and not national and current.parent_id != organisation.pk:
                if current.pk == organisation.pk:
                    row.error(
                        "code",
                        _("%(code)s is the code of %(org)s itself; list the organisations under it.")
                        % {"code": code, "org": organisation.name},
                    )
                else:
                    row.error("code", _("The code %(code)s already belongs to another organisation.") % {"code": code})
                current = None
        row.cell("name", str, required=True)
        row.cell("kind", parse_kind, required=True)
        kind = row.values.get("kind")
        if kind and not national and kind not in ADMIN_IMPORTABLE_KINDS and (current is None or current.kind != kind):
            row.error(
                "kind",
                _("Only a national administrator can import a %(kind)s. You can import: %(allowed)s.")
                % {
                    "kind": OrganisationKind(kind).label,
                    "allowed": ", ".join(str(OrganisationKind(k).label) for k in ADMIN_IMPORTABLE_KINDS),
                },
            )
        row.cell("address", str)
        row.cell("regency", regions.regency, text=lambda r: r.code)
        if row.has("regency") and row.out.get("regency") and "regency" not in row.values:
            # The regency has its error already; a village searched outside it would only
            # add a confusing second one.
            if row.has("village"):
                row.out["village"] = str(raw.get("village") or "")
        else:
            scope = row.values.get("regency") or default_scope
            row.cell("village", partial(regions.village, scope=scope), text=lambda r: r.code)
        row.cell("latitude", parse_coordinate)
        row.cell("longitude", parse_coordinate)
        row.cell("phone", parse_phone)
        row.cell("whatsapp", parse_phone)
        row.cell("email", parse_email)
        if clusters is not None:
            row.cell("clusters", lambda v: clusters.parse(v, what=_("cluster")), text=clusters.text)
        if components is not None:
            row.cell("components", lambda v: components.parse(v, what=_("component")), text=components.text)
        row.cell("capacity", parse_count)
        row.cell("accreditation", parse_accreditation)
        row.cell("accreditation_expires", parse_date, text=lambda d: d.isoformat())
        row.cell("registration_number", str)

        latitude, longitude = row.values.get("latitude"), row.values.get("longitude")
        if row.has("latitude") and "latitude" in row.values and "longitude" in row.values:
            if (latitude is None) != (longitude is None):
                row.error(
                    "latitude" if latitude is None else "longitude", _("Give both latitude and longitude, or neither.")
                )
            elif latitude is not None and longitude is not None and not in_indonesia(latitude, longitude):
                hint = _(" Latitude and longitude seem to be swapped.") if in_indonesia(longitude, latitude) else ""
                row.error(
                    "latitude",
                    _("The point %(lat)s, %(lon)s is outside Indonesia.") % {"lat": latitude, "lon": longitude} + hint,
                )
        if not row.has("accreditation"):
            accreditation: str | None = current.accreditation if current is not None else ""
        else:
            # None: the cell had its own error already.
            accreditation = row.values.get("accreditation", None) or ("" if "accreditation" in row.values else None)
        if row.values.get("accreditation_expires") and accreditation == "":
            row.error("accreditation_expires", _("A validity date needs an accreditation (A, B or C)."))

        village = row.values.get("village")
        if village is not None:
            row.out["_village"] = region_label(village)
        if row.failed:
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue

        obj = current if current is not None else Organisation(code=code, parent=organisation, is_active=True)
        before = snapshot(obj) if current is not None else None
        for key in _ORG_SIMPLE_FIELDS:
            if key in row.values:
                value = row.values[key]
                if value is None and key in _TEXT_DEFAULTS:
                    value = ""
                setattr(obj, key, value)
        if "village" in row.values:
            village_changed = current is not None and current.village_id != (village.code if village else None)
            obj.village = village
            if village is not None and not row.values.get("regency"):
                obj.home_region = village.parent.parent  # the village's regency/city
            if village_changed and not row.has("latitude"):
                # A new village moves the pin, as in services.organisation_update.
                obj.latitude = obj.longitude = None
        if row.values.get("regency") is not None:
            obj.home_region = row.values["regency"]
        if row.has("latitude"):
            obj.latitude, obj.longitude = latitude, longitude
        if not obj.accreditation and not row.has("accreditation_expires"):
            obj.accreditation_expires = None  # no accreditation, nothing to expire
        pinned_village = obj.village if obj.village_id is not None else None
        if pinned_village is not None and obj.latitude is None and obj.longitude is None:
            obj.latitude, obj.longitude = pinned_village.latitude, pinned_village.longitude
        try:
            services.organisation_check_regions(obj)
            # Foreign keys were resolved above and codes checked for the whole file; the
            # check constraints repeat the field validators. No query per row.
            obj.full_clean(
                exclude=["parent", "village", "home_region"], validate_unique=False, validate_constraints=False
            )
        except ApplicationError as exc:
            row.error(ORGANISATION_FIELD_COLUMNS.get(exc.field or "", exc.field or "code"), exc)
        except ValidationError as exc:
            field_errors(row, exc, ORGANISATION_FIELD_COLUMNS)
        if row.failed:
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue

        changed: set[str] = set() if before is None else changed_fields(obj, before)
        links: list[tuple[str, list[int]]] = []
        for m2m in ("clusters", "components"):
            if m2m in row.values:
                wanted = row.values[m2m] or []
                if current is None:
                    links.append((m2m, wanted))
                elif set(wanted) != {item.pk for item in getattr(current, m2m).all()}:
                    links.append((m2m, wanted))
                    plan.replace[m2m].append(obj)
        if current is None:
            plan.creates.append(obj)
            row.out["_action"] = "new"
        elif changed or links:
            plan.updates.append(obj)
            plan.update_fields |= changed
            row.out["_action"] = "update"
        else:
            plan.unchanged += 1
            row.out["_action"] = "same"
        plan.links.extend((obj, m2m, ids) for m2m, ids in links)
        plan.rows.append(row.out)
    return plan


_WORKFORCE_FIELDS = ("name", "kind", "phone", "certificate_number", "certificate_expires", "is_active")
_WORKFORCE_TEXT_DEFAULTS = {"phone", "certificate_number"}


def plan_workforce(
    *, organisation: Organisation, by: User, rows: Sequence[dict[str, Any]], headers: dict[str, str], lock: bool = False
) -> Plan:
    """Validate workforce rows for `organisation`; (NIK, kind) finds the record to update."""
    plan = Plan()
    present = set(headers)
    niks: set[str] = set()
    region_codes: set[str] = set()
    region_names: set[str] = set()
    for raw in rows:
        niks.add(normalise_nik(str(raw.get("nik") or "")))
        for piece in re.split(r"[,;]", str(raw.get("regions") or "")):
            piece = piece.strip()
            if piece:
                code = code_of(piece)
                if code is not None:
                    region_codes.add(code)
                else:
                    region_names.add(name_key(piece))
    niks.discard("")
    regions = RegionIndex(codes=region_codes, names=region_names)
    existing_qs: QuerySet[WorkforceMember] = WorkforceMember.objects.filter(nik__in=niks)
    if "regions" in present:
        existing_qs = existing_qs.prefetch_related("regions")
    if lock:
        existing_qs = existing_qs.select_for_update()
    existing = {(m.nik, m.kind): m for m in existing_qs} if niks else {}
    kinds = choice_index(WorkforceKind, WORKFORCE_KIND_EXTRAS)
    scope = organisation.home_region if organisation.home_region_id else None
    seen: dict[tuple[str, str], int] = {}

    def parse_kind(value: str) -> str:
        kind = kinds.get(choice_key(value))
        if kind is None:
            raise CellError(
                _("Unknown kind “%(value)s”. Use one of: %(choices)s.")
                % {
                    "value": value,
                    "choices": WORKFORCE_KIND_NAMES,
                }
            )
        return kind

    def parse_regions(value: str) -> list[Region]:
        found: list[Region] = []
        problems: list[str] = []
        for piece in re.split(r"[,;]", value):
            piece = piece.strip()
            if not piece:
                continue
            try:
                region = regions.any_level(piece, scope)
            except CellError as exc:
                problems.append(str(exc))
                continue
            if region not in found:
                found.append(region)
        if problems:
            raise CellError(" ".join(problems))
        return found

    for raw in rows:
        row = Row(plan, raw, headers)
        row.cell("name", str, required=True)
        row.cell("nik", parse_nik_cell, required=True)
        row.cell("kind", parse_kind, required=True)
        row.cell("phone", parse_phone)
        row.cell("regions", parse_regions, text=lambda found: ",".join(r.code for r in found))
        row.cell("certificate_number", str)
        row.cell("certificate_expires", parse_date, text=lambda d: d.isoformat())
        row.cell("is_active", parse_yes_no, text=lambda b: "true" if b else "false")
        nik, kind = row.values.get("nik"), row.values.get("kind")
        if nik:
            row.out["_nik"] = mask_nik(nik, fill="*")
        if row.values.get("regions"):
            row.out["_regions"] = ", ".join(r.name for r in row.values["regions"])
        current: WorkforceMember | None = None
        if nik and kind:
            if (nik, kind) in seen:
                row.error(
                    "nik",
                    _("This NIK is already listed as %(kind)s in row %(row)s.")
                    % {"kind": WorkforceKind(kind).label, "row": seen[(nik, kind)]},
                )
            else:
                seen[(nik, kind)] = row.number
                current = existing.get((nik, kind))
                if current is not None and current.organisation_id != organisation.pk:
                    row.error(
                        "nik",
                        _("A worker with this NIK is already registered as %(kind)s by another organisation.")
                        % {"kind": WorkforceKind(kind).label},
                    )
                    current = None
        if row.failed:
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue
        obj = (
            current
            if current is not None
            else WorkforceMember(organisation=organisation, nik=nik or "", is_active=True)
        )
        before = snapshot(obj) if current is not None else None
        for key in _WORKFORCE_FIELDS:
            if key in row.values:
                value = row.values[key]
                if value is None and key in _WORKFORCE_TEXT_DEFAULTS:
                    value = ""
                elif value is None and key == "is_active":
                    value = True
                setattr(obj, key, value)
        try:
            services.workforce_check(obj)
        except ApplicationError as exc:
            row.error(exc.field or "name", exc)
            row.out["_action"] = "error"
            plan.rows.append(row.out)
            continue
        changed: set[str] = set() if before is None else changed_fields(obj, before)
        links: list[int] | None = None
        if "regions" in row.values:
            wanted = [r.pk for r in row.values["regions"] or []]
            if current is None or set(wanted) != {r.pk for r in current.regions.all()}:
                links = wanted
                if current is not None:
                    plan.replace["regions"].append(obj)
        if current is None:
            plan.creates.append(obj)
            row.out["_action"] = "new"
        elif changed or links is not None:
            plan.updates.append(obj)
            plan.update_fields |= changed
            row.out["_action"] = "update"
        else:
            plan.unchanged += 1
            row.out["_action"] = "same"
        if links:
            plan.links.append((obj, "regions", links))
        plan.rows.append(row.out)
    return plan


PLANNERS: dict[str, Callable[..., Plan]] = {
    ImportKind.ORGANISATIONS: plan_organisations,
    ImportKind.WORKFORCE: plan_workforce,
}
