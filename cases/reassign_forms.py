"""The case list's handover form (POST, supervisors): the ticked cases or every open case
of one worker, to another case manager of the same organisation (cases.reassign)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atensi.core.access import actor_for, is_id
from atensi.core.once import OnceFormMixin
from atensi.core.widgets import FastSelect
from stakeholders.models import User
from stakeholders.roles import Role

from .selectors import CASE_MANAGER_ROLES, members_with_roles, person_name

# One page of the list is 50 cases; a handover of more goes by "all open cases of worker X".
MAX_TICKED = 200


class CaseIdsField(forms.Field):
    """The ticked case ids (checkboxes named `cases`, possibly outside the form element)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        if len(values) > MAX_TICKED:
            raise forms.ValidationError(
                _("Tick at most %(max)s cases at once, or hand over all open cases of a worker.") % {"max": MAX_TICKED}
            )
        if not all(is_id(v) for v in values):
            raise forms.ValidationError(_("The chosen cases were not understood; nothing was changed."))
        return sorted({int(v) for v in values})


def handover_candidates(user: User) -> list[User]:
    """Social workers and supervisors (active) of the organisations the user supervises."""
    supervised = actor_for(user).org_ids(Role.SUPERVISOR)
    if not supervised:
        return []
    return list(members_with_roles(organisation_ids=supervised, roles=CASE_MANAGER_ROLES))


class ReassignForm(OnceFormMixin):
    cases = CaseIdsField(required=False)
    from_worker = forms.TypedChoiceField(
        label=gettext_lazy("Or every open case of"),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=gettext_lazy("Leave empty to hand over the ticked cases."),
        widget=FastSelect,  # every case manager of a big organisation: hundreds of options
    )
    to = forms.TypedChoiceField(
        label=gettext_lazy("Hand over to"),
        coerce=int,
        widget=FastSelect,
        error_messages={
            "required": gettext_lazy("Choose the new case manager."),
            "invalid_choice": gettext_lazy(
                "Choose a social worker or supervisor of your organisation: that person is not (or no longer) one."
            ),
        },
    )
    # The case list's filters, to return to the same list afterwards.
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, data: Any = None, *, user: User, candidates: list[User] | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        people = candidates if candidates is not None else handover_candidates(user)
        self.people = {person.pk: person for person in people}
        choices = [(str(pk), person_name(person)) for pk, person in self.people.items()]
        cast(forms.TypedChoiceField, self.fields["from_worker"]).choices = [("", _("— the ticked cases —")), *choices]
        cast(forms.TypedChoiceField, self.fields["to"]).choices = [("", _("Choose…")), *choices]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("cases") and data.get("from_worker") is None and not self.errors:
            raise forms.ValidationError(
                _("Tick the cases to hand over, or choose a worker whose open cases to hand over.")
            )
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        from_worker = data.get("from_worker")
        return {
            "to": self.people[data["to"]],
            "case_ids": data.get("cases") or [],
            "from_worker": self.people[from_worker] if from_worker is not None else None,
        }
