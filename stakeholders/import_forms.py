"""The upload form of the spreadsheet import (stakeholders/imports/ reads the file)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import ImportKind


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("The file lists"),
        choices=ImportKind.choices,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose organisations or workforce.")},
    )
    file = forms.FileField(
        label=_("Spreadsheet (.csv or .xlsx)"),
        help_text=_("The first row holds the column names. Nothing is saved until you confirm the preview."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
