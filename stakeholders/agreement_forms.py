"""Forms for recording agreements (MoU/PKS) and filtering the list of them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from atensi.core.limits import TEXT_MAX_LENGTH

from .models import AgreementStatus, Organisation

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AgreementForm(forms.Form):
    """What the agreement says. The parties' rules and the PDF check live in the services."""

    number = forms.CharField(label=_("Number"), max_length=100, help_text=_("As written on the agreement."))
    title = forms.CharField(label=_("Title"), max_length=300)
    scope = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Scope"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the parties agree to do together, in a few sentences."),
    )
    signed_on = forms.DateField(label=_("Signed on"), widget=_DATE)
    valid_from = forms.DateField(label=_("Valid from"), widget=_DATE)
    valid_until = forms.DateField(label=_("Valid until"), widget=_DATE)
    parties = forms.ModelMultipleChoiceField(
        label=_("Parties"),
        queryset=Organisation.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Type above the list to narrow it; hold Ctrl (Cmd on a Mac) to choose several."),
        error_messages={"invalid_choice": _("Choose the parties from the list.")},
    )
    document = forms.FileField(
        label=_("Signed document (PDF)"),
        required=False,
        widget=forms.FileInput(attrs={"accept": ".pdf,application/pdf"}),
    )

    def __init__(
        self,
        *args: Any,
        host: Organisation | None = None,
        current_party_ids: Iterable[int] = (),
        has_document: bool = False,
        **kwargs: Any,
    ) -> None:
        """`host`: the organisation recording a new agreement (always a party, not listed).

        `current_party_ids`: an edited agreement's parties, listed even if no longer active.
        """
        super().__init__(*args, **kwargs)
        current = list(current_party_ids)
        parties = self.fields["parties"]
        assert isinstance(parties, forms.ModelMultipleChoiceField)
        qs = Organisation.objects.filter(Q(is_active=True) | Q(pk__in=current)).only("pk", "name").order_by("name")
        if host is not None:
            qs = qs.exclude(pk=host.pk)
            parties.label = _("Other parties")
            parties.help_text = _(
                "%(org)s is a party already. Type above the list to narrow it; hold Ctrl (Cmd on a Mac) to "
                "choose several."
            ) % {"org": host.name}
        parties.queryset = qs
        limit = filesizeformat(settings.ATENSI_AGREEMENT_MAX_BYTES)
        if has_document:
            self.fields["document"].help_text = _(
                "Leave empty to keep the current document; a new PDF (at most %(limit)s) replaces it."
            ) % {"limit": limit}
        else:
            self.fields["document"].help_text = _("A PDF file of at most %(limit)s.") % {"limit": limit}


STATUS_CHOICES = [("", _("Any status")), *AgreementStatus.choices]


class AgreementFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)
