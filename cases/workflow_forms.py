"""Forms of the case page: stage moves, approval requests and decisions, reopening, and the
case edit form (facts and assignment). They only parse input; the rules and their
messages live in cases/workflow.py."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atensi.core.models import Cluster
from atensi.core.once import OnceFormMixin
from stakeholders.models import User

from .models import ApprovalKind, Basis, Case, ClosureReason, RiskLevel, Stage
from .workflow import assignable_case_managers, assignable_supervisors

DECISIONS = [("approve", _("Approve")), ("reject", _("Reject")), ("withdraw", _("Withdraw"))]


class StageMoveForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    note = forms.CharField(
        label=_("Why?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when the case goes back to an earlier stage."),
    )
    # The stage the page showed: a move decided on an outdated page is refused.
    expected_stage = forms.ChoiceField(choices=Stage.choices, required=False, widget=forms.HiddenInput)


class ApprovalRequestForm(OnceFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=ApprovalKind.choices, widget=forms.HiddenInput)
    closure_reason = forms.ChoiceField(
        label=_("Why is the case closed?"), choices=[("", "---------"), *ClosureReason.choices], required=False
    )
    closure_summary = forms.CharField(
        label=_("Closure summary"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was achieved, and where the child is now."),
    )
    note = forms.CharField(
        label=_("Note to the supervisor"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ApprovalDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=DECISIONS)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed when you reject: say what should change."),
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the case reopened?"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class _PersonChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class CaseEditForm(forms.Form):
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices)
    basis = forms.ChoiceField(label=_("Basis"), choices=Basis.choices)
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.filter(is_active=True))
    is_confidential = forms.BooleanField(
        label=_("Confidential"),
        required=False,
        help_text=Case._meta.get_field("is_confidential").help_text,
    )
    summary = forms.CharField(
        label=_("Presenting problem"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    case_manager = _PersonChoiceField(label=_("Case manager"), queryset=None, required=False)
    supervisor = _PersonChoiceField(label=_("Supervisor"), queryset=None, required=False)
    # The case's updated_at when the form was opened (optimistic concurrency).
    expected_updated_at = forms.CharField(max_length=64, widget=forms.HiddenInput)

    ASSIGNMENT = ("case_manager", "supervisor")

    def __init__(self, *args: Any, case: Case, can_assign: bool, **kwargs: Any) -> None:
        if "initial" not in kwargs and not args:
            kwargs["initial"] = {
                "risk_level": case.risk_level,
                "basis": case.basis,
                "cluster": case.cluster_id,
                "is_confidential": case.is_confidential,
                "summary": case.summary,
                "case_manager": case.case_manager_id,
                "supervisor": case.supervisor_id,
                "expected_updated_at": case.updated_at.isoformat(),
            }
        super().__init__(*args, **kwargs)
        if can_assign:
            manager, supervisor = self.fields["case_manager"], self.fields["supervisor"]
            assert isinstance(manager, forms.ModelChoiceField) and isinstance(supervisor, forms.ModelChoiceField)
            manager.queryset = assignable_case_managers(case)
            supervisor.queryset = assignable_supervisors(case)
        else:
            for name in self.ASSIGNMENT:
                del self.fields[name]

    def clean_expected_updated_at(self) -> datetime.datetime:
        try:
            return datetime.datetime.fromisoformat(self.cleaned_data["expected_updated_at"])
        except (TypeError, ValueError):
            raise forms.ValidationError(_("The form is outdated; reload the page and try again.")) from None

    def changes(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if name != "expected_updated_at"}
