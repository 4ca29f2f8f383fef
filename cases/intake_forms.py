"""Forms of the community reports (intake): the report itself, made for a phone, and the
triage forms (pass on, dismiss, find an existing child)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import AmpkCategory
from atensi.core.once import OnceFormMixin
from atensi.core.values import validate_phone
from stakeholders.fields import RegionField
from stakeholders.models import Organisation, RegionLevel

from .intake import CHILD_AGE_MAX
from .models import ReportChannel, ReporterKind, Sex, Urgency

# Big touch targets on a phone: large inputs, roomy checkboxes and radios (atensi.css).
LARGE = {"class": "form-control-lg"}
AGE_MESSAGE = _("Give the child's age as a number from 0 to 25, or leave it empty.")


class ReportForm(OnceFormMixin):
    """A community report. Few required fields: the village, the concern, what happened,
    and who reports (prefilled for a PSM, typed in by an intake officer)."""

    village = RegionField(
        levels=[RegionLevel.VILLAGE],
        label=_("Village (desa/kelurahan)"),
        help_text=_("Where the child is. Type the village name and pick it from the list."),
        error_messages={"required": _("Choose the village (desa/kelurahan) where the child is.")},
    )
    child_name = forms.CharField(
        label=_("Child's name"),
        max_length=200,
        required=False,
        help_text=_("Leave empty if you do not know it."),
        widget=forms.TextInput(attrs={**LARGE, "autocomplete": "off"}),
    )
    child_sex = forms.ChoiceField(
        label=_("Child's sex"),
        choices=[("", _("Not known")), *Sex.choices],
        required=False,
        widget=forms.RadioSelect,
    )
    child_age = forms.IntegerField(
        label=_("Approximate age (years)"),
        min_value=0,
        max_value=CHILD_AGE_MAX,
        required=False,
        widget=forms.NumberInput(attrs={**LARGE, "inputmode": "numeric"}),
        error_messages={
            "min_value": AGE_MESSAGE,
            "max_value": AGE_MESSAGE,
            "invalid": AGE_MESSAGE,
        },
    )
    ampk_categories = forms.ModelMultipleChoiceField(
        label=_("What is the concern?"),
        queryset=AmpkCategory.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick all that apply."),
    )
    concern = forms.CharField(
        label=_("Or in your own words"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs=LARGE),
    )
    urgency = forms.ChoiceField(
        label=_("How urgent is it?"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
        help_text=_("Emergency: the child is in danger now."),
    )
    narrative = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("What happened?"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("Describe what happened, in a few sentences.")},
    )
    location_detail = forms.CharField(
        label=_("Where exactly"),
        max_length=300,
        required=False,
        help_text=_("A street, a landmark, the RT/RW."),
        widget=forms.TextInput(attrs=LARGE),
    )
    channel = forms.ChoiceField(
        label=_("How did the report come in?"),
        choices=ReportChannel.choices,
        initial=ReportChannel.FIELD,
        widget=forms.RadioSelect,
    )
    reporter_kind = forms.ChoiceField(
        label=_("Who is reporting?"),
        choices=[("", _("Choose…")), *ReporterKind.choices],
        error_messages={"required": _("Say who is reporting.")},
        widget=forms.Select(attrs={"class": "form-select-lg"}),
    )
    reporter_name = forms.CharField(
        label=_("Reporter's name"),
        max_length=200,
        error_messages={"required": _("Give the name of the person reporting.")},
        widget=forms.TextInput(attrs=LARGE),
    )
    reporter_phone = forms.CharField(
        label=_("Reporter's phone"),
        max_length=20,
        required=False,
        validators=[validate_phone],
        help_text=_("So the social worker can call back."),
        widget=forms.TextInput(attrs={**LARGE, "inputmode": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, *args: Any, can_report_for_others: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.can_report_for_others = can_report_for_others
        if not can_report_for_others:
            # A PSM or a volunteer reports from the field, as themselves.
            del self.fields["channel"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "ampk_categories" in data and "concern" in data:
            if not data["ampk_categories"] and not (data["concern"] or "").strip():
                self.add_error(
                    "concern",
                    _("Say what the concern is: tick at least one category, or describe it in your own words."),
                )
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("submission_token", None)
        data.setdefault("channel", ReportChannel.FIELD)
        return data


class ActingOrganisationMixin(forms.Form):
    """Which of the user's organisations acts, when the report is in more than one of their queues."""

    acting = forms.ModelChoiceField(
        label=_("On behalf of"),
        queryset=Organisation.objects.none(),
        required=False,
    )

    def __init__(self, *args: Any, acting_choices: list[Organisation] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = acting_choices or []
        field = self.fields["acting"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in choices])
        if len(choices) < 2:
            field.widget = forms.HiddenInput()
        else:
            field.empty_label = None


class ReportPassForm(ActingOrganisationMixin):
    # A code, chosen from the suggestions (a select) or typed below; looked up in clean().
    organisation = forms.CharField(label=_("Pass to"), max_length=30, required=False, widget=forms.Select)
    organisation_code = forms.CharField(
        label=_("Or the organisation's code"),
        max_length=30,
        required=False,
        help_text=_("If it is not in the list: its code from the directory, e.g. LKSA-KASIHBUNDA."),
    )
    note = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Note for them"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why it is theirs, and anything you already know."),
        error_messages={"required": _("Write a note: why it is theirs, and anything you already know.")},
    )

    def __init__(self, *args: Any, candidates: list[Organisation] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = self.fields["organisation"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [("", _("Choose…")), *((o.code, f"{o.name} ({o.code})") for o in candidates or [])]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        code = (data.get("organisation_code") or data.get("organisation") or "").strip().upper()
        if not code:
            self.add_error("organisation", _("Choose the organisation to pass the report to, or type its code."))
            return data
        found = Organisation.objects.filter(code__iexact=code).first()
        if found is None:
            field = "organisation_code" if data.get("organisation_code") else "organisation"
            self.add_error(
                field, _("No organisation has the code %(code)s. Check the code in the directory.") % {"code": code}
            )
        data["to"] = found
        return data


class ReportDismissForm(ActingOrganisationMixin):
    reason = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Why dismiss it?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. a duplicate of another report, or the child is already safe and served."),
        error_messages={
            "required": _("Say why the report is dismissed; the reporter and your colleagues will see it.")
        },
    )


class TriageSearchForm(forms.Form):
    q = forms.CharField(label=_("Child's name"), max_length=100, required=False)
