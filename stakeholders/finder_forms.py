"""The finder's search form: where from, which services, how far."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atensi.core.models import Cluster, ServiceComponent

from .fields import RegionField
from .finder import MAX_KM
from .models import Accreditation, OrganisationKind, RegionLevel

# What a social worker usually looks for: places that take a child or client in.
DEFAULT_KINDS = [OrganisationKind.LKSA, OrganisationKind.BALAI, OrganisationKind.LPKS]

ANY_CURRENT_ACCREDITATION = "current"
ACCREDITATION_CHOICES = [
    ("", _("Any, or none")),
    (ANY_CURRENT_ACCREDITATION, _("Accredited (any grade, still valid)")),
    (Accreditation.B, _("B or better")),
    (Accreditation.A, _("A only")),
]


class FinderForm(forms.Form):
    village = RegionField(
        levels=(RegionLevel.DISTRICT, RegionLevel.VILLAGE),
        label=_("Village or district"),
        help_text=_("Where the client lives: type the name of the village or district, or its Kemendagri code."),
    )
    kinds = forms.MultipleChoiceField(
        label=_("Kind of organisation"),
        choices=OrganisationKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=DEFAULT_KINDS,
        help_text=_("None ticked: every kind."),
    )
    cluster = forms.ModelChoiceField(
        label=_("Cluster served"),
        queryset=Cluster.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
        empty_label=_("Any cluster"),
    )
    component = forms.ModelChoiceField(
        label=_("ATENSI component offered"),
        queryset=ServiceComponent.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
        empty_label=_("Any component"),
    )
    accreditation = forms.ChoiceField(label=_("Accreditation"), choices=ACCREDITATION_CHOICES, required=False)
    free_places = forms.BooleanField(label=_("Only with free places"), required=False)
    max_km = forms.IntegerField(
        label=_("Within (km)"),
        min_value=1,
        max_value=MAX_KM,
        required=False,
        help_text=_("Empty: any distance."),
        error_messages={"invalid": _("Enter the distance as a whole number of kilometres, e.g. 50.")},
    )

    def selector_kwargs(self) -> dict[str, Any]:
        """The cleaned search as keyword arguments of `nearest_organisations`."""
        data = self.cleaned_data
        grade = data.get("accreditation") or ""
        any_grade = grade == ANY_CURRENT_ACCREDITATION
        return {
            "origin": data["village"],
            "kinds": data.get("kinds") or (),
            "cluster": data.get("cluster"),
            "component": data.get("component"),
            "accreditation": grade if grade and not any_grade else None,
            "accredited_only": any_grade,
            "with_free_places": bool(data.get("free_places")),
            "max_km": data.get("max_km"),
        }
