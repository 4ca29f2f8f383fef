"""Forms for the records of a case: assessments, plan items, notes and visits, follow-ups.

Forms collect and type the input; the rules (dates, who may be named, stages) live in
cases/records.py, whose ApplicationError the views put on the field it names.
Create forms carry a once-only token (atensi/core/once.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import ServiceComponent
from atensi.core.once import OnceFormMixin
from stakeholders.models import Organisation, User

from .models import (
    Assessment,
    Case,
    DiversionStage,
    FollowUpKind,
    FollowUpStatus,
    IdentityDocument,
    NoteKind,
    PlanItem,
    PlanItemStatus,
)
from .record_selectors import active_components, case_workers, provider_choices

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NEED_PREFIX = "need_"


def _text(label: Any, *, required: bool = False, rows: int = 3, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


class WorkerChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class ComponentChoiceField(forms.ModelChoiceField[ServiceComponent]):
    def label_from_instance(self, obj: ServiceComponent) -> str:
        return str(obj.name)


# --- Assessments ---------------------------------------------------------------------------


class _AssessmentFields(forms.Form):
    assessed_on = forms.DateField(label=_("Assessed on"), widget=_DATE)
    problems = _text(_("Problems"), required=True, rows=4, help_text=_("What the child and family are facing."))
    strengths = _text(_("Strengths"), help_text=_("What the child, family and community can build on."))
    risks = _text(_("Risks"))
    family_situation = _text(_("Family situation"))
    education = _text(_("Education"))
    health = _text(_("Health"))
    legal_situation = _text(_("Legal situation"), help_text=_("For a child in contact with the law (ABH)."))
    diversion_stage = forms.ChoiceField(label=_("ABH: diversion stage"), choices=DiversionStage.choices, required=False)
    court = forms.CharField(label=_("ABH: court / case register"), max_length=200, required=False)
    identity_documents = forms.MultipleChoiceField(
        label=_("Identity documents the child holds"),
        choices=IdentityDocument.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    conclusion = _text(_("Conclusion"), required=True, rows=4)

    def __init__(self, *args: Any, components: Iterable[ServiceComponent], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.components = list(components)
        for component in self.components:
            self.fields[NEED_PREFIX + component.code] = _text(component.name, rows=2)
        if not self.is_bound and not self.initial.get("assessed_on"):
            self.fields["assessed_on"].initial = timezone.localdate()

    def need_fields(self) -> list[forms.BoundField]:
        return [self[NEED_PREFIX + c.code] for c in self.components]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        names = (
            "assessed_on",
            "problems",
            "strengths",
            "risks",
            "family_situation",
            "education",
            "health",
            "legal_situation",
            "diversion_stage",
            "court",
            "identity_documents",
            "conclusion",
        )
        kwargs = {name: data[name] for name in names}
        kwargs["needs"] = {c.code: data.get(NEED_PREFIX + c.code, "") for c in self.components}
        return kwargs


class AssessmentForm(OnceFormMixin, _AssessmentFields):
    pass


class AssessmentEditForm(_AssessmentFields):
    # The version the edit started from: saving checks nobody saved in between.
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    @classmethod
    def initial_for(cls, assessment: Assessment) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(assessment, name)
            for name in (
                "assessed_on",
                "problems",
                "strengths",
                "risks",
                "family_situation",
                "education",
                "health",
                "legal_situation",
                "diversion_stage",
                "court",
                "identity_documents",
                "conclusion",
                "version",
            )
        }
        for code, text in (assessment.needs or {}).items():
            initial[NEED_PREFIX + code] = text
        return initial


def assessment_components(assessment: Assessment | None = None) -> list[ServiceComponent]:
    """The components to write needs under: the active ones, and any a saved assessment used."""
    used = list((assessment.needs or {}).keys()) if assessment is not None else []
    return list(active_components(include_codes=used))


# --- The plan ------------------------------------------------------------------------------


class _PlanItemFields(forms.Form):
    component = ComponentChoiceField(
        label=_("ATENSI component"),
        queryset=ServiceComponent.objects.none(),
        error_messages={"invalid_choice": _("Choose an ATENSI component from the list.")},
    )
    service = forms.CharField(
        label=_("Service"), max_length=300, help_text=_("What will be done, e.g. weekly counselling sessions.")
    )
    provider: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        label=_("Provided by"),
        queryset=None,
        required=False,
        error_messages={
            "invalid_choice": _(
                "That organisation is not active in the portal. Choose an active organisation, or leave "
                "the provider empty if your own organisation provides the service."
            )
        },
    )
    responsible = WorkerChoiceField(
        label=_("Responsible worker"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose someone who works cases in your organisation.")},
    )
    start_date = forms.DateField(label=_("Start"), widget=_DATE)
    target_date = forms.DateField(label=_("Target date"), widget=_DATE)
    status = forms.ChoiceField(label=_("Status"), choices=PlanItemStatus.choices, initial=PlanItemStatus.PLANNED)
    outcome = _text(_("Outcome"), help_text=_("Required when the item is done."))

    def __init__(self, *args: Any, case: Case, item: PlanItem | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        component = self.fields["component"]
        provider = self.fields["provider"]
        responsible = self.fields["responsible"]
        assert isinstance(component, forms.ModelChoiceField)
        assert isinstance(provider, forms.ModelChoiceField)
        assert isinstance(responsible, forms.ModelChoiceField)
        used = [item.component.code] if item is not None else []
        component.queryset = active_components(include_codes=used)
        provider.queryset = provider_choices(
            exclude=case.organisation, include=item.provider_id if item is not None else None
        )
        provider.empty_label = _("%(org)s (own organisation)") % {"org": case.organisation.name}
        provider.help_text = _(
            "Leave as is if %(org)s provides the service. Another organisation needs a referral."
        ) % {"org": case.organisation.name}
        responsible.queryset = case_workers(
            organisation=case.organisation, include=item.responsible_id if item is not None else None
        )
        if not self.is_bound and item is None:
            responsible.initial = case.case_manager_id
            self.fields["start_date"].initial = timezone.localdate()

    def service_kwargs(self) -> dict[str, Any]:
        names = ("component", "service", "provider", "responsible", "start_date", "target_date", "status", "outcome")
        return {name: self.cleaned_data[name] for name in names}


class PlanItemForm(OnceFormMixin, _PlanItemFields):
    pass


class PlanItemEditForm(_PlanItemFields):
    @classmethod
    def initial_for(cls, item: PlanItem) -> dict[str, Any]:
        return {
            "component": item.component_id,
            "service": item.service,
            "provider": item.provider_id,
            "responsible": item.responsible_id,
            "start_date": item.start_date,
            "target_date": item.target_date,
            "status": item.status,
            "outcome": item.outcome,
        }


# --- Notes and follow-ups ------------------------------------------------------------------


FOLLOW_UP_KIND_CHOICES = [("", "---------"), *FollowUpKind.choices]


class NoteForm(OnceFormMixin):
    kind = forms.ChoiceField(label=_("Kind"), choices=NoteKind.choices, initial=NoteKind.HOME_VISIT)
    occurred_on = forms.DateField(label=_("Date"), widget=_DATE)
    participants = forms.CharField(
        label=_("Participants"),
        max_length=300,
        required=False,
        help_text=_("Who took part, e.g. the child, the mother, the class teacher."),
    )
    narrative = _text(_("What happened"), required=True, rows=6)
    next_step = _text(_("Next step"), rows=2)
    add_follow_up = forms.BooleanField(label=_("Schedule a follow-up for the next step"), required=False)
    follow_up_kind = forms.ChoiceField(label=_("Kind of follow-up"), choices=FOLLOW_UP_KIND_CHOICES, required=False)
    follow_up_due_on = forms.DateField(label=_("Due on"), widget=_DATE, required=False)
    follow_up_assignee = WorkerChoiceField(
        label=_("Assigned to"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("Choose someone who works cases in your organisation.")},
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["follow_up_assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assignee.queryset = case_workers(organisation=case.organisation)
        if not self.is_bound:
            assignee.initial = case.case_manager_id
            self.fields["occurred_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("add_follow_up"):
            if not data.get("follow_up_kind"):
                self.add_error("follow_up_kind", _("Choose what kind of follow-up it is."))
            if not data.get("follow_up_due_on") and "follow_up_due_on" not in self.errors:
                self.add_error("follow_up_due_on", _("Choose when the follow-up is due."))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        kwargs = {name: data[name] for name in ("kind", "occurred_on", "participants", "narrative", "next_step")}
        if data.get("add_follow_up"):
            kwargs.update(
                follow_up_kind=data["follow_up_kind"],
                follow_up_due_on=data["follow_up_due_on"],
                follow_up_assignee=data.get("follow_up_assignee"),
            )
        return kwargs


class FollowUpForm(OnceFormMixin):
    kind = forms.ChoiceField(label=_("Kind"), choices=FollowUpKind.choices)
    due_on = forms.DateField(label=_("Due on"), widget=_DATE)
    assignee = WorkerChoiceField(
        label=_("Assigned to"),
        queryset=None,
        error_messages={"invalid_choice": _("Choose someone who works cases in your organisation.")},
    )
    description = forms.CharField(label=_("What to do"), max_length=300, required=False)

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assignee.queryset = case_workers(organisation=case.organisation)
        if not self.is_bound:
            assignee.initial = case.case_manager_id

    def service_kwargs(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("kind", "due_on", "assignee", "description")}


class FollowUpMarkForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[(FollowUpStatus.DONE.value, _("Done")), (FollowUpStatus.MISSED.value, _("Missed"))],
        error_messages={"required": _("Choose whether the follow-up was done or missed.")},
    )
    reason = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Why it was missed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
