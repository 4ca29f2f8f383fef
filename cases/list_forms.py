"""The case list's filter form (GET): whose cases, search, status, stage, risk, cluster, AMPK
category, case manager, kab/kota, overdue follow-up, confidential, sort — and, for the links
behind every dashboard count, the dates opened and closed, basis, aftercare due, stage
deadline passed, organisation and the child's province. Other pages link to these GET
parameter names (`opened_from`, `closed_to`, `basis`, `aftercare_due=1`, `stage_late=1`,
`organisation=<id>`, `province=<2 digits>`...): they are an interface, keep them.

Bad values never make a 500 or an empty page: `case_list_filters` drops the filters that do
not validate, says which, and lists with the rest.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atensi.core.access import actor_for
from atensi.core.fragments import fragment_key
from atensi.core.models import AmpkCategory, Cluster
from atensi.core.stash import unstash
from atensi.core.values import is_nik_shaped, normalise_nik
from atensi.core.widgets import FastSelect
from stakeholders.fields import RegionField
from stakeholders.models import Membership, Organisation, RegionLevel, User

from .lists import (
    NIK_PURPOSE,
    NIK_REF,
    UNASSIGNED,
    CaseFilters,
    Scope,
    SearchKind,
    Sort,
    Status,
    default_scope,
    search_kind,
)
from .models import OPEN_STAGES, Basis, RiskLevel, Stage
from .selectors import CASE_MANAGER_ROLES, CASE_ROLES, display_name

SCOPE_CHOICES = [
    (Scope.MINE, gettext_lazy("My cases")),
    (Scope.ALL, gettext_lazy("All cases of the organisation")),
]
STATUS_CHOICES = [
    (Status.OPEN, gettext_lazy("Open cases")),
    (Status.CLOSED, gettext_lazy("Closed cases")),
    (Status.ALL, gettext_lazy("Open and closed")),
]
SORT_CHOICES = [
    (Sort.NEWEST, gettext_lazy("Newest opened first")),
    (Sort.OLDEST, gettext_lazy("Oldest opened first")),
    (Sort.STAGE, gettext_lazy("Stage")),
    (Sort.RISK, gettext_lazy("Risk, highest first")),
    (Sort.DUE, gettext_lazy("Next follow-up due")),
]
# Listed most urgent first, as the risk sort orders them.
RISK_CHOICES = [(value, label) for value, label in reversed(RiskLevel.choices)]
# (from, to) date filters: a start after the end is refused with this pair's name.
DATE_RANGES = (("opened_from", "opened_to"), ("closed_from", "closed_to"))


def _day_field(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class CaseListForm(forms.Form):
    scope = forms.ChoiceField(
        label=gettext_lazy("Show"), choices=SCOPE_CHOICES, required=False, widget=forms.RadioSelect
    )
    q = forms.CharField(
        label=gettext_lazy("Search"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("A child's name or a case number. A NIK goes in “Find a child by NIK”."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Open or closed"), choices=STATUS_CHOICES, required=False, widget=FastSelect
    )
    stage = forms.MultipleChoiceField(
        label=gettext_lazy("Stage"),
        choices=[(value, label) for value, label in Stage.choices if value in OPEN_STAGES],
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=gettext_lazy("None ticked: every stage."),
    )
    risk = forms.MultipleChoiceField(
        label=gettext_lazy("Risk level"),
        choices=RISK_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    cluster = forms.ChoiceField(label=gettext_lazy("Cluster"), required=False, widget=FastSelect)
    ampk = forms.ChoiceField(label=gettext_lazy("AMPK category"), required=False, widget=FastSelect)
    # Hundreds of names in a big organisation: written without a template per option.
    case_manager = forms.ChoiceField(label=gettext_lazy("Case manager"), required=False, widget=FastSelect)
    kabkota = RegionField(
        label=gettext_lazy("Kab/kota of the child"),
        levels=(RegionLevel.REGENCY,),
        required=False,
    )
    province = RegionField(
        label=gettext_lazy("Province of the child"),
        levels=(RegionLevel.PROVINCE,),
        required=False,
        widget=FastSelect,
        empty_label=gettext_lazy("Any province"),
    )
    organisation = forms.TypedChoiceField(
        label=gettext_lazy("Organisation"), coerce=int, empty_value=None, required=False, widget=FastSelect
    )
    basis = forms.ChoiceField(
        label=gettext_lazy("Basis"),
        choices=[("", gettext_lazy("Any basis")), *Basis.choices],
        required=False,
        widget=FastSelect,
    )
    opened_from = _day_field(gettext_lazy("Opened from"))
    opened_to = _day_field(gettext_lazy("Opened until"))
    closed_from = _day_field(gettext_lazy("Closed from"))
    closed_to = _day_field(gettext_lazy("Closed until"))
    overdue = forms.BooleanField(label=gettext_lazy("Follow-up overdue"), required=False)
    aftercare_due = forms.BooleanField(label=gettext_lazy("Aftercare visit due this month"), required=False)
    stage_late = forms.BooleanField(label=gettext_lazy("Past the stage deadline"), required=False)
    confidential = forms.BooleanField(label=gettext_lazy("Confidential cases only"), required=False)
    sort = forms.ChoiceField(label=gettext_lazy("Sort by"), choices=SORT_CHOICES, required=False, widget=FastSelect)

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.user = user
        # Read when a value is checked or the form is drawn, not before: a list whose
        # filter form comes from the cache (filter_panel_key) needs none of them.
        self._choices(
            "cluster",
            lambda: [("", _("Any cluster")), *((c.code, c.name) for c in Cluster.objects.filter(is_active=True))],
        )
        self._choices(
            "ampk",
            lambda: [
                ("", _("Any category")),
                *((c.code, c.name) for c in AmpkCategory.objects.filter(is_active=True)),
            ],
        )
        self._choices(
            "case_manager",
            lambda: [("", _("Anyone")), (UNASSIGNED, _("Not assigned")), *case_manager_candidates(user)],
        )
        self._choices("organisation", lambda: [("", _("Every organisation")), *self.organisation_choices])

    @property
    def keepable(self) -> bool:
        """May the drawn form be kept (filter_panel_key)? Not when it shows a search text,
        which may be a child's name."""
        return not (str(self.data.get("q") or "").strip() if self.is_bound else "")

    @functools.cached_property
    def organisation_choices(self) -> list[tuple[str, str]]:
        chosen = (self.data.get("organisation") or "") if self.is_bound else ""
        return organisation_choices(self.user, chosen=chosen)

    def _choices(self, name: str, choices: Callable[[], list[tuple[str, Any]]]) -> None:
        # Read once: drawing a select iterates them more than once (its "required" check).
        cast(forms.ChoiceField, self.fields[name]).choices = functools.cache(choices)

    def to_filters(self) -> CaseFilters:
        data = self.cleaned_data
        kabkota = data.get("kabkota")
        province = data.get("province")
        return CaseFilters(
            scope=data.get("scope") or Scope.ALL,
            status=data.get("status") or Status.OPEN,
            stages=tuple(data.get("stage") or ()),
            risks=tuple(data.get("risk") or ()),
            cluster=data.get("cluster") or "",
            ampk=data.get("ampk") or "",
            case_manager=data.get("case_manager") or "",
            kabkota=kabkota.code if kabkota is not None else "",
            overdue=bool(data.get("overdue")),
            confidential=bool(data.get("confidential")),
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or Sort.NEWEST,
            opened_from=data.get("opened_from"),
            opened_to=data.get("opened_to"),
            closed_from=data.get("closed_from"),
            closed_to=data.get("closed_to"),
            basis=data.get("basis") or "",
            aftercare_due=bool(data.get("aftercare_due")),
            stage_late=bool(data.get("stage_late")),
            organisation=data.get("organisation"),
            province=province.code if province is not None else "",
        )


def filter_panel_key(form: CaseListForm, *, nik_ref: str, language: str) -> str:
    """The cache key of the list's drawn filter form (atensi.core.fragments): everything it
    shows depends on who asks (their organisations' case managers and names), the
    language and the filters asked; nothing else. Who changes organisation or role gets a
    new key at once; a colleague's new name or a new category shows within a minute."""
    actor = actor_for(form.user)
    data = cast(MultiValueDict[str, Any], form.data)  # a QueryDict, or an empty MultiValueDict
    asked = sorted((name, data.getlist(name)) for name in data)
    return fragment_key(
        "case-filters",
        form.user.pk,
        actor.is_superuser,
        sorted(actor.org_ids(*CASE_ROLES)),
        language,
        nik_ref,
        form.is_bound,
        asked,
    )


def organisation_choices(user: User, *, chosen: str = "") -> list[tuple[str, str]]:
    """The organisations the organisation filter offers: those where the user works cases
    (no query for one: there is nothing to choose). A superuser, who sees them all, is
    offered only the one asked for, if it exists."""
    actor = actor_for(user)
    if actor.is_superuser:
        if not chosen.isdigit():
            return []
        return [(str(pk), name) for pk, name in Organisation.objects.filter(pk=int(chosen)).values_list("pk", "name")]
    ids = actor.org_ids(*CASE_ROLES)
    if len(ids) == 1:
        return [(str(next(iter(ids))), "")]
    return [
        (str(pk), name)
        for pk, name in Organisation.objects.filter(pk__in=list(ids)).order_by("name").values_list("pk", "name")
    ]


def case_manager_candidates(user: User) -> list[tuple[str, str]]:
    """The social workers and supervisors of the organisations whose cases `user` works, as
    (id, name) choices. Plain rows, not User objects: a big organisation has hundreds."""
    actor = actor_for(user)
    memberships = Membership.objects.filter(
        user_id=OuterRef("pk"), role__in=CASE_MANAGER_ROLES, is_active=True, organisation__is_active=True
    )
    if not actor.is_superuser:
        memberships = memberships.filter(organisation_id__in=actor.org_ids(*CASE_ROLES) or [0])
    rows = (
        User.objects.filter(Exists(memberships), is_active=True)
        .order_by("first_name", "last_name", "username")
        .values_list("pk", "first_name", "last_name", "username")
    )
    return [(str(pk), display_name(first, last, username)) for pk, first, last, username in rows]


class CaseNikForm(forms.Form):
    """The list's "find a child by NIK": POSTed, so the NIK is in no URL (cases.views.lists)."""

    nik = forms.CharField(label=gettext_lazy("Find a child by NIK"), max_length=30)

    def clean_nik(self) -> str:
        nik = normalise_nik(self.cleaned_data.get("nik"))
        if not is_nik_shaped(nik):
            raise forms.ValidationError(_("A NIK has exactly 16 digits."))
        return nik


# Parameters that are not filters: the page position, and htmx's own.
_NOT_FILTERS = ("cursor", NIK_REF)


def case_list_filters(params: Any, *, user: User) -> tuple[CaseListForm, CaseFilters, list[str]]:
    """Bind the GET parameters (with the user's defaults); drop what does not validate and say so.

    Returns the form to render, the filters in effect and the warnings for the reader.
    """
    data = params.copy()
    nik_ref = (data.get(NIK_REF) or "")[:64]
    for name in _NOT_FILTERS:
        data.pop(name, None)
    warnings: list[str] = []
    if search_kind(data.get("q") or "") == SearchKind.NIK:
        # A NIK in the address is kept by servers, history and Referer headers: not searched,
        # and not shown back in the box (the htmx request would push it to the history again).
        data.pop("q", None)
        warnings.append(
            _(
                "A NIK is not searched from the page's address, where it would be kept. "
                "Use “Find a child by NIK”: it never puts the NIK in an address."
            )
        )
    nik = unstash(user_id=user.pk, purpose=NIK_PURPOSE, token=nik_ref) if nik_ref else None
    if nik_ref and nik is None:
        warnings.append(_("This search by NIK has expired. Search for the NIK again."))
    if nik:
        data.pop("q", None)  # the NIK is the search
    if not data.get("scope"):
        data["scope"] = default_scope(user)
    explicit_status = bool(data.get("status"))
    if not explicit_status:
        # Asking when cases were closed asks about closed cases: open and closed, unless said.
        data["status"] = Status.ALL if data.get("closed_from") or data.get("closed_to") else Status.OPEN
    if not data.get("sort"):
        data["sort"] = Sort.NEWEST
    form = CaseListForm(data, user=user)
    if not form.is_valid():
        for name in list(form.errors):
            if name == "q":
                warnings.append(
                    _("The search text is too long (at most %(max)s characters); it was ignored.") % {"max": 100}
                )
            elif isinstance(form.fields.get(name), forms.DateField):
                warnings.append(
                    _("“%(filter)s” is not a date (write it as YYYY-MM-DD); that filter was ignored.")
                    % {"filter": form.fields[name].label}
                )
            elif name in form.fields:
                warnings.append(
                    _("Unknown value for “%(filter)s”; that filter was ignored.") % {"filter": form.fields[name].label}
                )
            data.pop(name, None)
            data.pop(f"{name}_code", None)  # the region picker's typed code
        for name, default in (("scope", default_scope(user)), ("status", Status.OPEN), ("sort", Sort.NEWEST)):
            if not data.get(name):
                data[name] = default
        form = CaseListForm(data, user=user)
        if not form.is_valid():  # pragma: no cover - every invalid field was dropped above
            return CaseListForm(None, user=user), CaseFilters(scope=default_scope(user)), warnings
    filters = form.to_filters()
    for first, last in DATE_RANGES:
        start: datetime.date | None = getattr(filters, first)
        end: datetime.date | None = getattr(filters, last)
        if start is not None and end is not None and start > end:
            warnings.append(
                _("“%(first)s” is after “%(last)s”; those two dates were ignored.")
                % {"first": form.fields[first].label, "last": form.fields[last].label}
            )
            filters = CaseFilters(**{**filters.__dict__, first: None, last: None})
    if not explicit_status and filters.status == Status.ALL and not (filters.closed_from or filters.closed_to):
        filters = CaseFilters(**{**filters.__dict__, "status": Status.OPEN})
    if filters.stages and filters.status == Status.CLOSED:
        warnings.append(_("Closed cases are past every stage: the stage filter was ignored."))
        filters = CaseFilters(**{**filters.__dict__, "stages": ()})
    if nik_ref:
        filters = CaseFilters(**{**filters.__dict__, "q": nik or "", "nik_ref": nik_ref, "match_none": nik is None})
    return form, filters, warnings
