"""Forms of the subject access register."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.once import OnceFormMixin
from stakeholders.models import Organisation

from ..models import RequesterRelation
from .sections import sections

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SubjectAccessRequestForm(OnceFormMixin):
    organisation = forms.TypedChoiceField(label=_("Made to"), coerce=int)
    requester_name = forms.CharField(label=_("Asked by (name)"), max_length=200)
    requester_relation = forms.ChoiceField(
        label=_("Relation to the person"), choices=RequesterRelation.choices, initial=RequesterRelation.MOTHER
    )
    received_at = forms.DateTimeField(
        label=_("Received"),
        widget=_WHEN,
        help_text=_("When the request reached the organisation: the legal deadline of 3 x 24 hours runs from then."),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the request came in and how the person asking showed who they are."),
    )

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(o.pk, o.name) for o in organisations]
        if len(organisations) == 1:
            field.initial = organisations[0].pk
            field.widget = forms.HiddenInput()
        if not self.is_bound:
            self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        received: datetime.datetime = data["received_at"]
        return {
            "organisation_id": data["organisation"],
            "requester_name": data["requester_name"],
            "requester_relation": data["requester_relation"],
            "received_at": received,
            "notes": data["notes"],
        }


class SubjectAccessCloseForm(forms.Form):
    """Answer or refuse: what was done, told to the person in these words."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("answered", _("Answered: the person has their data")), ("refused", _("Refused"))],
        widget=forms.RadioSelect,
    )
    answer = forms.CharField(
        label=_("How it was answered, or why it was refused"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SubjectAccessFileForm(forms.Form):
    """Make the file; parts may be left out, with the reason the file's letter gives."""

    withhold = forms.MultipleChoiceField(
        label=_("Leave out"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Only where giving it would endanger the person or someone else, or disclose another person's "
            "data (UU 27/2022, Pasal 33) — for example where the child now lives, asked by a parent the child "
            "was protected from."
        ),
    )
    reason = forms.CharField(
        label=_("Why they are left out"),
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The file's letter tells the person this."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["withhold"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(section.name, str(section.title)) for section in sections()]
