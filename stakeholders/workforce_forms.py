"""The workforce directory's filter form (GET): region, kind, organisation, status, certificate, name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from .fields import RegionField
from .models import Organisation, RegionLevel, WorkforceKind, WorkforceMember
from .workforce import ActiveFilter, CertificateFilter, WorkforceFilters

ACTIVE_CHOICES = [
    (ActiveFilter.ACTIVE, _("Active only")),
    (ActiveFilter.INACTIVE, _("Inactive only")),
    (ActiveFilter.ALL, _("Active and inactive")),
]
CERTIFICATE_CHOICES = [
    (CertificateFilter.ANY, _("Any")),
    (CertificateFilter.EXPIRING, _("Expiring within 60 days")),
    (CertificateFilter.EXPIRED, _("Expired")),
]


class WorkforceFilterForm(forms.Form):
    region = RegionField(
        levels=(RegionLevel.PROVINCE, RegionLevel.REGENCY, RegionLevel.DISTRICT),
        required=False,
        label=_("Region"),
        help_text=_("A province, regency/city or district; its Kemendagri code works too, e.g. 15.71."),
    )
    kind = forms.MultipleChoiceField(
        label=_("Kind"),
        choices=WorkforceKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every kind."),
    )
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        # Only organisations that have workers on the registry: a shorter list.
        queryset=Organisation.objects.filter(Exists(WorkforceMember.objects.filter(organisation=OuterRef("pk")))).only(
            "pk", "name"
        ),
        required=False,
        empty_label=_("Any organisation"),
    )
    active = forms.ChoiceField(label=_("Status"), choices=ACTIVE_CHOICES, required=False)
    certificate = forms.ChoiceField(label=_("Certificate"), choices=CERTIFICATE_CHOICES, required=False)
    q = forms.CharField(label=_("Name"), max_length=100, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        # Until the region picker is RegionField's widget, a plain <select> would list
        # every district in Indonesia: take the code as text instead.
        if type(region.widget) is forms.Select:
            region.widget = forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})

    def filters(self) -> WorkforceFilters:
        """The cleaned filter; call after is_valid(). Missing status means active only."""
        data = self.cleaned_data
        return WorkforceFilters(
            region=data.get("region"),
            kinds=tuple(data.get("kind") or ()),
            organisation=data.get("organisation"),
            active=data.get("active") or ActiveFilter.ACTIVE,
            certificate=data.get("certificate") or CertificateFilter.ANY,
            q=data.get("q") or "",
        )
