"""The organisation directory: its filters, the scoped reads behind it, keyset paging, export rows.

Where an organisation "is": its home region (a province or a regency/city). A province
filter matches organisations whose home region is the province or one of its
regencies/cities; a kab/kota filter matches those based in it. With "serves" ticked,
organisations whose coverage reaches the area count too: coverage of the area, of a
region that contains it (the whole province) or of a region inside it (a district).

Pages are keyed on (name, id), never on an offset: page 40 costs what page 1 costs and a
row added meanwhile neither repeats nor skips a row. The cursor is signed so a reader
cannot make the server compare against arbitrary values; a bad one means "first page".
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import cast

from django import forms
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Greatest
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from atensi.core import keyset
from atensi.core.access import actor_for, get_or_404
from atensi.core.models import Cluster, ServiceComponent
from atensi.core.spreadsheets import spreadsheet_safe
from atensi.core.values import normalise_phone

from .models import Accreditation, Membership, Organisation, OrganisationKind, Region, RegionLevel, User

PAGE_SIZE = 25
ACCREDITATION_NONE = "none"  # the filter's spelling of "not accredited" (stored as "")
_CURSOR_SALT = "stakeholders.directory.cursor"


# --- Filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class DirectoryFilters:
    kinds: tuple[str, ...] = ()
    province: str = ""  # Region code, 2 digits
    kabkota: str = ""  # Region code, 4 digits
    serves: bool = False
    cluster: str = ""  # Cluster.code
    component: str = ""  # ServiceComponent.code
    accreditation: str = ""  # "A", "B", "C", ACCREDITATION_NONE, or "" for any
    has_free_places: bool = False
    q: str = ""

    @property
    def area(self) -> str:
        return self.kabkota or self.province


class DirectoryFilterForm(forms.Form):
    """The directory's GET parameters. Unknown values are dropped with a message, never a 500."""

    q = forms.CharField(
        label=gettext_lazy("Name or code"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    kind = forms.MultipleChoiceField(
        label=gettext_lazy("Kind"),
        choices=OrganisationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    province = forms.ChoiceField(label=gettext_lazy("Province"), required=False)
    kabkota = forms.ChoiceField(
        label=gettext_lazy("Regency/city (kabupaten/kota)"),
        required=False,
        help_text=gettext_lazy("Choose a province first."),
    )
    serves = forms.BooleanField(
        label=gettext_lazy("Also organisations based elsewhere that serve this area"),
        required=False,
    )
    cluster = forms.ChoiceField(label=gettext_lazy("Cluster served"), required=False)
    component = forms.ChoiceField(label=gettext_lazy("ATENSI component offered"), required=False)
    accreditation = forms.ChoiceField(label=gettext_lazy("Accreditation"), required=False)
    free = forms.BooleanField(label=gettext_lazy("Has free residential places"), required=False)

    def __init__(self, data: QueryDict | None = None) -> None:
        if data is not None:
            data = data.copy()
            # A link to a kab/kota alone (e.g. from a report) still shows its province.
            kabkota = str(data.get("kabkota") or "")
            if kabkota and not data.get("province"):
                data["province"] = kabkota[:2]
        super().__init__(data)
        provinces = list(Region.objects.filter(level=RegionLevel.PROVINCE).order_by("name").values_list("code", "name"))
        self._choices("province", [("", _("All provinces")), *provinces])
        province = str(data.get("province") or "") if data is not None else ""
        if province in dict(provinces):
            regencies = list(
                Region.objects.filter(level=RegionLevel.REGENCY, parent_id=province)
                .order_by("name")
                .values_list("code", "name")
            )
            self._choices("kabkota", [("", _("All regencies/cities")), *regencies])
            self.fields["kabkota"].help_text = ""
        else:
            self._choices("kabkota", [("", _("All regencies/cities"))])
        self._choices(
            "cluster",
            [("", _("Any cluster")), *((c.code, c.name) for c in Cluster.objects.filter(is_active=True))],
        )
        self._choices(
            "component",
            [("", _("Any component")), *((c.code, c.name) for c in ServiceComponent.objects.filter(is_active=True))],
        )
        self._choices(
            "accreditation",
            [
                ("", _("Any")),
                *((value, label) for value, label in Accreditation.choices if value),
                (ACCREDITATION_NONE, Accreditation.NONE.label),
            ],
        )

    def _choices(self, name: str, choices: list[tuple[str, StrOrPromise]]) -> None:
        cast(forms.ChoiceField, self.fields[name]).choices = choices

    def to_filters(self) -> DirectoryFilters:
        data = self.cleaned_data
        return DirectoryFilters(
            kinds=tuple(data.get("kind") or ()),
            province=data.get("province") or "",
            kabkota=data.get("kabkota") or "",
            serves=bool(data.get("serves")),
            cluster=data.get("cluster") or "",
            component=data.get("component") or "",
            accreditation=data.get("accreditation") or "",
            has_free_places=bool(data.get("free")),
            q=(data.get("q") or "").strip(),
        )


def directory_filters(params: QueryDict) -> tuple[DirectoryFilterForm, DirectoryFilters, list[str]]:
    """Bind the GET parameters; drop the ones that do not validate and say which.

    Returns the form to render (showing only the filters in effect), the filters and the
    warnings for the reader.
    """
    form = DirectoryFilterForm(params)
    if form.is_valid():
        return form, form.to_filters(), []
    data = params.copy()
    warnings = []
    for name in form.errors:
        if name == "kind" and hasattr(data, "setlist"):
            # Keep the kinds that exist; drop only the unknown ones.
            known = [k for k in data.getlist("kind") if k in OrganisationKind.values]
            warnings.append(_("Unknown kind of organisation; it was ignored."))
            data.setlist("kind", known)
            continue
        if name == "kabkota" and _is_regency_elsewhere(str(data.get("kabkota") or "")):
            # The reader changed the province and the old kab/kota came along: not an error.
            pass
        elif name == "q":
            warnings.append(
                _("The search text is too long (at most %(max)s characters); it was ignored.") % {"max": 100}
            )
        elif name in form.fields:
            warnings.append(
                _("Unknown value for “%(filter)s”; that filter was ignored.") % {"filter": form.fields[name].label}
            )
        data.pop(name, None)
    form = DirectoryFilterForm(data)
    if not form.is_valid():  # pragma: no cover - every invalid field was dropped above
        return DirectoryFilterForm(), DirectoryFilters(), warnings
    return form, form.to_filters(), warnings


def _is_regency_elsewhere(code: str) -> bool:
    return bool(code) and Region.objects.filter(level=RegionLevel.REGENCY, code=code).exists()


# --- Reads --------------------------------------------------------------------------


def _area_ancestors(code: str) -> list[str]:
    """Codes of the regions that contain `code` (not itself): 1571 -> [15]."""
    return [code[:n] for n in (2, 4, 6) if n < len(code)]


def name_search(q: str) -> Q:
    """Name contains `q` (any case), or the code starts with it.

    name__icontains compiles to UPPER("name"::text) LIKE UPPER(...), the expression of
    the trigram index organisation_name_trgm; a code prefix uses the code's pattern
    index. Both sides are indexed, so Postgres can BitmapOr them.
    """
    return Q(name__icontains=q) | Q(code__startswith=q.upper())


def organisation_directory(*, filters: DirectoryFilters) -> QuerySet[Organisation]:
    """Active organisations matching `filters`, ordered by name then id, with free places.

    Every logged-in user may read the directory: it holds no personal data.
    """
    qs = Organisation.objects.filter(is_active=True)
    if filters.kinds:
        qs = qs.filter(kind__in=filters.kinds)
    area = filters.area
    if area:
        in_area = Q(home_region__code__startswith=area)
        if filters.serves:
            covering = Organisation.coverage.through.objects.filter(organisation_id=OuterRef("pk")).filter(
                Q(region_id__in=_area_ancestors(area)) | Q(region__code__startswith=area)
            )
            in_area |= Q(Exists(covering))
        qs = qs.filter(in_area)
    # Exists, not a join: a join through a many-to-many could repeat an organisation.
    if filters.cluster:
        qs = qs.filter(
            Exists(
                Organisation.clusters.through.objects.filter(
                    organisation_id=OuterRef("pk"), cluster__code=filters.cluster
                )
            )
        )
    if filters.component:
        qs = qs.filter(
            Exists(
                Organisation.components.through.objects.filter(
                    organisation_id=OuterRef("pk"), servicecomponent__code=filters.component
                )
            )
        )
    if filters.accreditation == ACCREDITATION_NONE:
        qs = qs.filter(accreditation=Accreditation.NONE)
    elif filters.accreditation:
        qs = qs.filter(accreditation=filters.accreditation)
    if filters.has_free_places:
        qs = qs.filter(capacity__gt=F("occupancy"))
    if filters.q:
        qs = qs.filter(name_search(filters.q))
    return (
        qs.annotate(
            free_place_count=Case(
                When(capacity__isnull=True, then=Value(None)),
                default=Greatest(F("capacity") - F("occupancy"), Value(0)),
                output_field=IntegerField(),
            )
        )
        .select_related("home_region__parent")
        .prefetch_related(
            Prefetch("clusters", queryset=Cluster.objects.order_by("position", "code")),
            Prefetch("components", queryset=ServiceComponent.objects.order_by("position", "code")),
        )
        .order_by("name", "pk")
    )


@dataclass(frozen=True)
class DirectoryPage:
    organisations: list[Organisation]
    next_cursor: str | None
    is_first: bool


def encode_cursor(organisation: Organisation) -> str:
    return keyset.encode_cursor(organisation.name, organisation.pk, salt=_CURSOR_SALT)


def decode_cursor(cursor: str | None) -> tuple[str, int] | None:
    """The (name, id) a page starts after, or None for the first page (also for a bad cursor)."""
    return keyset.decode_cursor(cursor, salt=_CURSOR_SALT)


def directory_page(queryset: QuerySet[Organisation], *, cursor: str | None, size: int = PAGE_SIZE) -> DirectoryPage:
    """One page of the directory after `cursor`."""
    after = decode_cursor(cursor)
    if after is not None:
        name, pk = after
        # name >= x is an index range on (name, id); the OR only trims the boundary.
        queryset = queryset.filter(Q(name__gte=name) & (Q(name__gt=name) | Q(pk__gt=pk)))
    rows = list(queryset[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    return DirectoryPage(
        organisations=rows,
        next_cursor=encode_cursor(rows[-1]) if has_more and rows else None,
        is_first=after is None,
    )


def organisation_profile_get(*, user: User, organisation_id: object) -> Organisation:
    """One organisation for its directory page, or 404.

    Active organisations are open to every logged-in user; an inactive one only to its
    own members and superusers (the actor leaves inactive organisations out, so the
    membership is checked here).
    """
    actor = actor_for(user)
    qs = Organisation.objects.select_related(
        "parent", "home_region__parent", "village__parent__parent__parent"
    ).prefetch_related(
        Prefetch("clusters", queryset=Cluster.objects.order_by("position", "code")),
        Prefetch("components", queryset=ServiceComponent.objects.order_by("position", "code")),
        Prefetch("coverage", queryset=Region.objects.select_related("parent").order_by("code")),
    )
    if actor.user_id is None:
        qs = qs.none()
    elif not actor.is_superuser:
        own = Membership.objects.filter(organisation_id=OuterRef("pk"), user_id=actor.user_id, is_active=True)
        qs = qs.filter(Q(is_active=True) | Q(Exists(own)))
    return get_or_404(qs, pk=organisation_id)


@dataclass(frozen=True)
class StaffEntry:
    name: str
    roles: tuple[str, ...]


def organisation_staff_public(*, organisation: Organisation) -> list[StaffEntry]:
    """Who works there and as what: names and roles only, for colleagues elsewhere."""
    memberships = (
        Membership.objects.filter(organisation=organisation, is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username", "role")
    )
    people: dict[int, tuple[str, list[str]]] = {}
    for m in memberships:
        _name, roles = people.setdefault(m.user_id, (m.user.get_full_name() or m.user.username, []))
        roles.append(str(m.get_role_display()))
    return [StaffEntry(name=name, roles=tuple(roles)) for name, roles in people.values()]


# --- Presentation helpers -----------------------------------------------------------


def region_path(region: Region | None) -> list[Region]:
    """The region and everything above it, nearest first (uses the select_related chain)."""
    out: list[Region] = []
    while region is not None:
        out.append(region)
        region = region.parent
    return out


def province_and_regency(region: Region | None) -> tuple[str, str]:
    """Province and kab/kota names of a home region (province or regency/city)."""
    if region is None:
        return "", ""
    if region.level == RegionLevel.PROVINCE:
        return region.name, ""
    if region.level == RegionLevel.REGENCY:
        return (region.parent.name if region.parent else ""), region.name
    return "", ""


def tel_href(phone: str) -> str:
    return f"tel:{normalise_phone(phone)}" if phone else ""


def whatsapp_href(phone: str) -> str:
    """wa.me wants the international number in digits only: 0812… becomes 62812…."""
    digits = re.sub(r"\D", "", normalise_phone(phone))
    if not digits:
        return ""
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return f"https://wa.me/{digits}"


def osm_url(latitude: float, longitude: float) -> str:
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}#map=16/{latitude:.6f}/{longitude:.6f}"
    )


# --- Export -------------------------------------------------------------------------


def export_headers() -> list[str]:
    return [
        _("Code"),
        _("Name"),
        _("Kind"),
        _("Province"),
        _("Regency/city"),
        _("Village code"),
        _("Street address"),
        _("Latitude"),
        _("Longitude"),
        _("Phone"),
        _("WhatsApp"),
        _("Email"),
        _("Clusters served"),
        _("ATENSI components offered"),
        _("Residential capacity"),
        _("Current occupancy"),
        _("Accreditation"),
        _("Accreditation valid until"),
        _("Registration/licence number"),
    ]


def export_rows(organisations: Iterable[Organisation]) -> Iterator[list[object]]:
    """One list per organisation, in export_headers' order, made safe for spreadsheets."""
    for org in organisations:
        province, regency = province_and_regency(org.home_region)
        village = ""
        if org.village_id:
            code = org.village_id
            village = ".".join(p for p in (code[:2], code[2:4], code[4:6], code[6:]) if p)
        row: list[object] = [
            org.code,
            org.name,
            str(org.get_kind_display()),
            province,
            regency,
            village,
            org.address,
            org.latitude,
            org.longitude,
            org.phone,
            org.whatsapp,
            org.email,
            _join(c.name for c in org.clusters.all()),
            _join(c.name for c in org.components.all()),
            org.capacity,
            org.occupancy,
            org.accreditation,
            org.accreditation_expires,
            org.registration_number,
        ]
        yield [spreadsheet_safe(v) for v in row]


def _join(names: Iterable[str]) -> str:
    return "; ".join(names)


def export_filename(extension: str, today: datetime.date) -> str:
    return f"organisations-{today:%Y%m%d}.{extension}"
