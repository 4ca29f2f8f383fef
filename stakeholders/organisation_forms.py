"""The form an organisation's own administrators use to keep its profile up to date.

A plain form, not a ModelForm: the service validates the model under its row lock, and
the organisation shown beside the form must stay as it is in the database until saved.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from atensi.core.geo import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, in_indonesia
from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import Cluster, ServiceComponent
from atensi.core.values import validate_phone

from .fields import RegionField
from .models import Organisation, RegionLevel
from .services import ORGANISATION_PROFILE_FIELDS


def _label(name: str) -> Any:
    # Model verbose names are lower case; a form label starts with a capital, as in a ModelForm.
    return capfirst(cast("models.Field[object, object]", Organisation._meta.get_field(name)).verbose_name)


class OrganisationProfileForm(forms.Form):
    name = forms.CharField(label=_label("name"), max_length=200)
    address = forms.CharField(label=_label("address"), max_length=300, required=False)
    village = RegionField(
        label=_label("village"),
        levels=(RegionLevel.VILLAGE,),
        required=False,
        help_text=_("The desa/kelurahan where the organisation is."),
    )
    latitude = forms.FloatField(
        label=_label("latitude"),
        required=False,
        help_text=_("Leave latitude and longitude empty to place the pin on the village."),
    )
    longitude = forms.FloatField(label=_label("longitude"), required=False)
    phone = forms.CharField(label=_label("phone"), max_length=20, required=False, validators=[validate_phone])
    whatsapp = forms.CharField(label=_label("whatsapp"), max_length=20, required=False, validators=[validate_phone])
    email = forms.EmailField(label=_label("email"), required=False)
    clusters = forms.ModelMultipleChoiceField(
        label=_label("clusters"),
        queryset=Cluster.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    components = forms.ModelMultipleChoiceField(
        label=_label("components"),
        queryset=ServiceComponent.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    capacity = forms.IntegerField(
        label=_label("capacity"),
        min_value=0,
        required=False,
        help_text=_("Places for residential care; empty if none."),
    )
    registration_number = forms.CharField(label=_label("registration_number"), max_length=100, required=False)
    notes = forms.CharField(
        max_length=TEXT_MAX_LENGTH, label=_label("notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # When the form was loaded: saving over someone else's newer changes is refused.
    updated_at = forms.DateTimeField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The form was incomplete. Reload the page and make your changes again."),
            "invalid": _("The form was incomplete. Reload the page and make your changes again."),
        },
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        initial = {name: getattr(organisation, name) for name in ORGANISATION_PROFILE_FIELDS}
        initial["clusters"] = list(organisation.clusters.all())
        initial["components"] = list(organisation.components.all())
        initial["updated_at"] = organisation.updated_at.isoformat()
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        lat, lon = data.get("latitude"), data.get("longitude")
        if "latitude" in self.errors or "longitude" in self.errors:
            return data
        if (lat is None) != (lon is None):
            missing = "longitude" if lon is None else "latitude"
            self.add_error(missing, _("Give both latitude and longitude, or leave both empty."))
        elif lat is not None and lon is not None and not in_indonesia(lat, lon):
            self.add_error(
                "latitude",
                _(
                    "This point is outside Indonesia. Latitude runs from %(lat_min)s to %(lat_max)s and "
                    "longitude from %(lon_min)s to %(lon_max)s; check that the two are not swapped."
                )
                % {"lat_min": LAT_MIN, "lat_max": LAT_MAX, "lon_min": LON_MIN, "lon_max": LON_MAX},
            )
        return data

    def profile_changes(self) -> dict[str, Any]:
        """The profile fields the user changed, ready for services.organisation_update."""
        return {name: self.cleaned_data[name] for name in self.changed_data if name in ORGANISATION_PROFILE_FIELDS}
