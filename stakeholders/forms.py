"""Forms for managing an organisation's staff."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import User
from .roles import Role


class StaffInviteForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text=_("Letters, digits and . @ + - _ only, e.g. peksos.nama"),
        error_messages={"invalid": _("Use only letters, digits and . @ + - _ in the username.")},
    )
    email = forms.EmailField(label=_("Email"), help_text=_("A link to set the password is sent here."))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("The username %(username)s is already taken."), params={"username": username})
        return username


class MembershipActiveForm(forms.Form):
    active = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")
