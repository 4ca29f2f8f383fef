"""Forms for the documents and consent pages of a case: upload, the kind filter, consent,
its withdrawal, and the emergency sharing override. Business rules live in cases/documents.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.once import OnceFormMixin
from atensi.core.uploads import DOCUMENT_KINDS
from stakeholders.models import Organisation

from .models import Case, DocumentKind, FamilyMember, Relation

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_ACCEPT = ",".join(f".{ext}" for kind in DOCUMENT_KINDS for ext in kind.extensions)


def _organisations_to_share_with(case: Case) -> QuerySet[Organisation]:
    """Active organisations other than the case's own, by name."""
    return (
        Organisation.objects.filter(is_active=True).exclude(pk=case.organisation_id).only("pk", "name").order_by("name")
    )


class DocumentUploadForm(OnceFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of document"),
        choices=[("", "---------"), *DocumentKind.choices],
        error_messages={"required": _("Choose what kind of document this is.")},
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        help_text=_("What it is, e.g. “Akta kelahiran” or “Putusan diversi PN Jambi”."),
        error_messages={"required": _("Give the document a title, e.g. “Akta kelahiran”.")},
    )
    # Empty files reach the service, which says so in the same words as for every upload.
    file = forms.FileField(
        label=_("File"),
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": _ACCEPT}),
        error_messages={"required": _("Choose the file to upload.")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF, JPEG, PNG or DOCX, at most %(limit)s. A photo must be JPEG or PNG.") % {
            "limit": filesizeformat(settings.ATENSI_DOCUMENT_MAX_BYTES)
        }


class DocumentFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All kinds")), *DocumentKind.choices], required=False)


class ConsentForm(OnceFormMixin, forms.Form):
    given_by = forms.ModelChoiceField(
        label=_("Given by (from the family)"),
        queryset=FamilyMember.objects.none(),
        required=False,
        empty_label=_("Someone not in the family list: type the name below"),
        error_messages={"invalid_choice": _("Choose someone from the family list.")},
    )
    given_by_name = forms.CharField(
        label=_("Name of the person who gave consent"),
        max_length=200,
        required=False,
        help_text=_("Only if they are not in the family list."),
    )
    relation = forms.ChoiceField(
        label=_("Relation to the child"),
        choices=[("", "---------"), *Relation.choices],
        required=False,
    )
    given_on = forms.DateField(
        label=_("Date given"),
        widget=_DATE,
        error_messages={"required": _("Enter the date the consent was given.")},
    )
    allows_processing = forms.BooleanField(
        label=_("Processing of the child's data"),
        required=False,
        initial=True,
        help_text=_("Needed for the consent to be valid: recording and using the child's data for the case."),
    )
    allows_photos = forms.BooleanField(label=_("Photos of the child"), required=False)
    share_with = forms.ModelMultipleChoiceField(
        label=_("Sharing with"),
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_(
            "The organisations named in the consent. Type above the list to narrow it; hold Ctrl (Cmd on a Mac) "
            "to choose several."
        ),
        error_messages={"invalid_choice": _("Choose the organisations from the list.")},
    )
    form_document = forms.ModelChoiceField(
        label=_("Signed consent form"),
        queryset=Organisation.objects.none(),  # a queryset of the case's documents, set in __init__
        required=False,
        help_text=_("Upload the signed form first as a document of the kind “Consent form”."),
        error_messages={"invalid_choice": _("Choose a consent form uploaded to this case.")},
    )
    notes = forms.CharField(
        max_length=TEXT_MAX_LENGTH, label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = [
        "given_by",
        "given_by_name",
        "relation",
        "given_on",
        "allows_processing",
        "allows_photos",
        "share_with",
        "form_document",
        "notes",
    ]

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        given_by = self.fields["given_by"]
        share_with = self.fields["share_with"]
        form_document = self.fields["form_document"]
        assert isinstance(given_by, forms.ModelChoiceField)
        assert isinstance(share_with, forms.ModelMultipleChoiceField)
        assert isinstance(form_document, forms.ModelChoiceField)
        given_by.queryset = FamilyMember.objects.filter(beneficiary_id=case.beneficiary_id)
        share_with.queryset = _organisations_to_share_with(case)
        form_document.queryset = case.documents.filter(kind=DocumentKind.CONSENT_FORM).order_by("-uploaded_at", "-pk")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("given_by") is None:
            if not (data.get("given_by_name") or "").strip():
                self.add_error(
                    "given_by_name", _("Choose the family member who gave consent, or type their name and relation.")
                )
            elif not data.get("relation"):
                self.add_error("relation", _("Choose how this person is related to the child."))
        return data


class ConsentWithdrawForm(forms.Form):
    withdrawn_on = forms.DateField(
        label=_("Withdrawn on"),
        widget=_DATE,
        error_messages={"required": _("Enter the date the consent was withdrawn.")},
    )
    reason = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write why the consent was withdrawn (who said so, and how).")},
    )


class SharingOverrideForm(OnceFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Share with"),
        queryset=Organisation.objects.none(),
        error_messages={
            "required": _("Choose the organisation the data must be shared with."),
            "invalid_choice": _("Choose the organisation from the list."),
        },
    )
    reason = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Reason (the emergency)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the child's data must be shared now, without consent. Kept on record."),
        error_messages={
            "required": _(
                "Write the emergency that makes sharing without consent necessary. The reason is kept on record."
            )
        },
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        assert isinstance(organisation, forms.ModelChoiceField)
        organisation.queryset = _organisations_to_share_with(case)
