"""Forms of the referral page: accept, decline, complete, cancel, and a message. They only
parse input; the rules and their messages are the services' (referrals/services.py,
referrals/messages.py), so a missing reason or outcome gets the service's words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.once import OnceFormMixin
from cases.models import Document
from cases.selectors import CASE_MANAGER_ROLES, members_with_roles
from stakeholders.models import User

from .models import DeclineReason, Referral

NOTE_MAX_LENGTH = 5000


class _PersonChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class AcceptForm(forms.Form):
    """For a transfer, the receiver names the case manager; other kinds need nothing."""

    case_manager = _PersonChoiceField(
        label=_("Who will manage the case?"),
        queryset=None,
        required=False,
        help_text=_("A social worker or supervisor of your organisation. The case moves to your organisation."),
        error_messages={"invalid_choice": _("Choose a social worker or supervisor from the list.")},
    )

    def __init__(self, *args: Any, referral: Referral, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "accept")
        super().__init__(*args, **kwargs)
        if referral.kind == "transfer":
            field = self.fields["case_manager"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = members_with_roles(organisation_ids=[referral.receiver_id], roles=CASE_MANAGER_ROLES)
        else:
            del self.fields["case_manager"]


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why do you decline?"), choices=[("", "---------"), *DeclineReason.choices], required=False
    )
    note = forms.CharField(
        label=_("Explanation"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed for “Other”. It helps the sender find the right organisation."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "decline")
        super().__init__(*args, **kwargs)


class CompleteForm(forms.Form):
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What was done for the child, and what the sender should know now."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "complete")
        super().__init__(*args, **kwargs)


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the referral cancelled?"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "cancel")
        super().__init__(*args, **kwargs)


class _DocumentChoiceField(forms.ModelMultipleChoiceField[Document]):
    def label_from_instance(self, obj: Document) -> str:
        return f"{obj.title} ({obj.get_kind_display()})"


class MessageForm(OnceFormMixin, forms.Form):
    body = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Message"),
        required=False,
        # The service says how long is too long; the browser is not told, so a long
        # message is refused with words instead of being cut silently.
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    attachments = _DocumentChoiceField(
        label=_("Attach documents of the case"),
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Attach only documents from the list.")},
    )

    def __init__(self, *args: Any, documents: QuerySet[Document] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "message")
        super().__init__(*args, **kwargs)
        if documents is None:
            del self.fields["attachments"]
        else:
            field = self.fields["attachments"]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = documents
