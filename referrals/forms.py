"""Forms of the referrals app: sending a referral.

The form collects and types the input; the rules (consent, own organisation, inactive
receiver, what each kind needs) are referrals.services.referral_send's, whose
ApplicationError the view puts on the field it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from atensi.core.access import is_id
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import ServiceComponent
from atensi.core.once import OnceFormMixin
from cases.models import Case, Document, PlanItem, PlanItemStatus, Urgency
from cases.record_selectors import active_components
from stakeholders.models import Organisation, User

from .case_selectors import RESENDABLE
from .models import (
    HandoverReason,
    Referral,
    ReferralKind,
    ReferralStatus,
    ResponseDeadline,
    SharedSection,
)
from .selectors import referrals_visible_to
from .services import DEFAULT_DEADLINE_HOURS

# Plan items a referral may carry.
REFERABLE_ITEM_STATUSES = (PlanItemStatus.PLANNED, PlanItemStatus.IN_PROGRESS)


def _deadline_text(hours: int) -> str:
    # "24 hours" reads as the emergency it is; longer deadlines read better in days.
    if hours > 24 and hours % 24 == 0:
        days = hours // 24
        return ngettext("an answer within %(n)d day", "an answer within %(n)d days", days) % {"n": days}
    return ngettext("an answer within %(n)d hour", "an answer within %(n)d hours", hours) % {"n": hours}


def urgency_choices() -> list[tuple[str, str]]:
    """Each urgency with the deadline it sets (the admin-editable hours), in one query."""
    hours = dict(ResponseDeadline.objects.values_list("urgency", "hours"))
    return [
        (
            value,
            f"{label} — {_deadline_text(hours.get(value) or DEFAULT_DEADLINE_HOURS[Urgency(value)])}",
        )
        for value, label in Urgency.choices
    ]


def _pk(value: Any) -> int | None:
    text = str(value or "").strip()
    # is_id: ASCII digits that fit a bigint ("²".isdigit() is true, int("²") fails).
    return int(text) if is_id(text) else None


def resendable_referrals(*, user: User, case: Case) -> QuerySet[Referral]:
    """Referrals of `case` the user sees that may be re-sent elsewhere (declined or cancelled)."""
    return (
        referrals_visible_to(user)
        .filter(case=case, status__in=RESENDABLE)
        .select_related("receiver", "plan_item")
        .prefetch_related("components", "shared_documents")
    )


class ComponentsField(forms.ModelMultipleChoiceField[ServiceComponent]):
    def label_from_instance(self, obj: ServiceComponent) -> str:
        return str(obj.name)


class DocumentsField(forms.ModelMultipleChoiceField[Document]):
    def label_from_instance(self, obj: Document) -> str:
        return f"{obj.title} ({obj.get_kind_display()})"


class ReferralSendForm(OnceFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of referral"),
        choices=ReferralKind.choices,
        initial=ReferralKind.SERVICE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of referral this is.")},
    )
    receiver: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(
        label=_("Refer to"),
        queryset=Organisation.objects.none(),
        help_text=_("Any active organisation in the portal; the suggestions above are a start."),
        error_messages={
            "required": _("Choose the organisation to refer the child to."),
            "invalid_choice": _("That organisation is not in the portal. Choose one from the list."),
        },
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how urgent the referral is.")},
    )
    reason = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Reason for the referral"),
        error_messages={"required": _("Say why the child is referred.")},
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the child needs and why from this organisation. The receiver reads this before answering."),
    )
    components = ComponentsField(
        label=_("Services requested"),
        queryset=ServiceComponent.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Needed for a service referral: the ATENSI services you ask the receiver to deliver."),
        error_messages={"invalid_choice": _("Choose the services from the list.")},
    )
    handover_reason = forms.ChoiceField(
        label=_("Handover to"),
        choices=HandoverReason.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("For a handover after rehabilitation: what the receiving office is asked to do."),
    )
    shared_sections = forms.MultipleChoiceField(
        label=_("Share after the receiver accepts"),
        choices=SharedSection.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Before answering, the receiver sees only the reason, urgency, requested services, and the child's "
            "first name, age, sex and kab/kota. What you tick here is shown to them once they accept."
        ),
    )
    shared_documents = DocumentsField(
        label=_("Documents to share after the receiver accepts"),
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Only documents of this case can be shared.")},
    )
    plan_item: forms.ModelChoiceField[PlanItem] = forms.ModelChoiceField(
        queryset=PlanItem.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That plan item is not on this case. Start again from the plan.")},
    )
    resend: forms.ModelChoiceField[Referral] = forms.ModelChoiceField(
        queryset=Referral.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={
            "invalid_choice": _(
                "Only a declined or cancelled referral of this case can be re-sent. Start again from the "
                "case's referrals."
            )
        },
    )

    def __init__(self, *args: Any, case: Case, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.case = case
        urgency = self.fields["urgency"]
        assert isinstance(urgency, forms.ChoiceField)
        urgency.choices = urgency_choices()
        components = self.fields["components"]
        documents = self.fields["shared_documents"]
        plan_item = self.fields["plan_item"]
        resend = self.fields["resend"]
        receiver = self.fields["receiver"]
        assert isinstance(components, forms.ModelMultipleChoiceField)
        assert isinstance(documents, forms.ModelMultipleChoiceField)
        assert isinstance(plan_item, forms.ModelChoiceField)
        assert isinstance(resend, forms.ModelChoiceField)
        assert isinstance(receiver, forms.ModelChoiceField)
        components.queryset = active_components(include_codes=[])
        documents.queryset = Document.objects.filter(case=case).order_by("-uploaded_at", "-pk")
        plan_item.queryset = PlanItem.objects.filter(case=case).select_related("component", "provider")
        resend.queryset = resendable_referrals(user=user, case=case)
        # The referral being re-sent, for the page (and to leave out who declined it).
        self.resent: Referral | None = self._chosen("resend", resend)
        self.plan_item_chosen: PlanItem | None = self._chosen("plan_item", plan_item)
        self.declined_by = (
            self.resent.receiver if self.resent and self.resent.status == ReferralStatus.DECLINED else None
        )
        # Any active organisation but the case's own and the one that declined. A value
        # posted outside that list is kept so the service can say what is wrong with it
        # (the own organisation, an inactive one) instead of "not in the list".
        offered = Q(is_active=True) & ~Q(pk=case.organisation_id)
        if self.declined_by is not None:
            offered &= ~Q(pk=self.declined_by.pk)
        posted = _pk(self.data.get("receiver")) if self.is_bound else None
        if posted is not None:
            offered |= Q(pk=posted)
        receiver.queryset = (
            Organisation.objects.filter(offered).only("pk", "name", "kind", "is_active").order_by("name", "pk")
        )

    def _chosen(self, name: str, field: forms.ModelChoiceField[Any]) -> Any:
        """The object a hidden field names (posted or initial) if it is a valid choice, or None."""
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        pk = _pk(getattr(value, "pk", value))
        if pk is None or field.queryset is None:
            return None
        return field.queryset.filter(pk=pk).first()

    def clean_receiver(self) -> Organisation | None:
        receiver = self.cleaned_data.get("receiver")
        if receiver is not None and self.declined_by is not None and receiver.pk == self.declined_by.pk:
            raise forms.ValidationError(
                _("%(org)s declined this referral. Choose another organisation."), params={"org": receiver.name}
            )
        return receiver

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "receiver": data["receiver"],
            "urgency": data["urgency"],
            "reason": data["reason"],
            "components": list(data["components"]),
            "handover_reason": data["handover_reason"],
            "shared_sections": data["shared_sections"],
            "shared_documents": list(data["shared_documents"]),
            "plan_item": data["plan_item"],
            "resent_from": data["resend"],
        }

    def suggestion_params(self) -> dict[str, Any]:
        """What the receiver suggestions depend on, from the posted form or its initial values."""
        source: Mapping[str, Any] = self.data if self.is_bound else self.initial
        if self.is_bound:
            component_ids = [_pk(v) for v in self.data.getlist("components")]  # type: ignore[attr-defined]
        else:
            component_ids = [_pk(getattr(v, "pk", v)) for v in self.initial.get("components") or []]
        wanted = [pk for pk in component_ids if pk is not None]
        kind = str(source.get("kind") or "")
        handover_reason = str(source.get("handover_reason") or "")
        return {
            "kind": kind if kind in ReferralKind.values else "",
            "components": list(ServiceComponent.objects.filter(pk__in=wanted).order_by("position", "code"))
            if wanted
            else [],
            "handover_reason": handover_reason if handover_reason in HandoverReason.values else "",
            "exclude": [self.declined_by.pk] if self.declined_by is not None else [],
        }


def send_initial(*, case: Case, user: User, query: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The send form's starting values from the page's query string, and notes for the
    worker about what in it could not be used.

    kind=, components=, handover_reason=, receiver=: preset those fields.
    plan_item=<pk>: a service referral carrying that plan item (its component, provider
    and service).
    resend=<referral pk>: a declined or cancelled referral of this case, copied except the
    receiver.
    """
    initial: dict[str, Any] = {}
    notes: list[str] = []
    getlist = getattr(query, "getlist", None)
    kind = str(query.get("kind") or "")
    if kind in ReferralKind.values:
        initial["kind"] = kind
    components = [pk for pk in (_pk(v) for v in (getlist("components") if getlist else [])) if pk is not None]
    if components:
        initial["components"] = components
    handover_reason = str(query.get("handover_reason") or "")
    if handover_reason in HandoverReason.values:
        initial["handover_reason"] = handover_reason

    resend_pk = _pk(query.get("resend"))
    if query.get("resend"):
        original = resendable_referrals(user=user, case=case).filter(pk=resend_pk).first() if resend_pk else None
        if original is None:
            notes.append(str(_("Only a declined or cancelled referral of this case can be re-sent; this one cannot.")))
        else:
            initial.update(
                kind=original.kind,
                urgency=original.urgency,
                reason=original.reason,
                components=[c.pk for c in original.components.all()],
                handover_reason=original.handover_reason,
                shared_sections=list(original.shared_sections),
                shared_documents=[d.pk for d in original.shared_documents.all()],
                resend=original.pk,
            )
            if original.plan_item is not None and original.plan_item.status in REFERABLE_ITEM_STATUSES:
                initial["plan_item"] = original.plan_item_id

    item_pk = _pk(query.get("plan_item"))
    if query.get("plan_item"):
        item = (
            PlanItem.objects.filter(case=case, pk=item_pk).select_related("component", "provider").first()
            if item_pk
            else None
        )
        if item is None:
            notes.append(str(_("That plan item is not on this case. Start again from the plan.")))
        elif item.status not in REFERABLE_ITEM_STATUSES:
            notes.append(
                str(_("“%(service)s” is %(status)s in the plan; only a planned or running service can be referred."))
                % {"service": item.service, "status": item.get_status_display().lower()}
            )
        else:
            initial.update(kind=ReferralKind.SERVICE, components=[item.component_id], plan_item=item.pk)
            initial.setdefault("reason", item.service)
            provider = item.provider
            if provider is not None and provider.is_active and provider.pk != case.organisation_id:
                initial["receiver"] = provider.pk

    receiver = _pk(query.get("receiver"))
    if receiver is not None:
        initial["receiver"] = receiver
    return initial, notes
