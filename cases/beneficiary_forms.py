"""Forms for beneficiaries, their families, the search before registration, the merge,
and the "open a case" form.

Plain forms, not ModelForms: the services in cases/beneficiaries/ validate the model
under their row locks. The forms check what they can up front (every identity problem
at once), the services check it all again.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

from django import forms
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from atensi.core.limits import TEXT_MAX_LENGTH
from atensi.core.models import AmpkCategory, Cluster, PpksType
from atensi.core.once import OnceFormMixin
from atensi.core.values import (
    is_nik_shaped,
    nik_facts_or_none,
    nik_problem,
    normalise_kk,
    normalise_nik,
    normalise_phone,
    validate_phone,
)
from stakeholders.fields import RegionField
from stakeholders.models import Organisation, RegionLevel, User

from . import beneficiaries as svc
from .models import Basis, Beneficiary, CaseSource, FamilyMember, Relation, Religion, RiskLevel, SchoolStatus, Sex

# Years an approximate age may differ from the birth date before the form asks which is right.
AGE_ESTIMATE_TOLERANCE = 2
_INCOMPLETE = _("The form was incomplete. Reload the page and make your changes again.")


def _label(model: type[models.Model], name: str) -> Any:
    # Model verbose names are lower case; a form label starts with a capital.
    return capfirst(cast("models.Field[object, object]", model._meta.get_field(name)).verbose_name)


def _blabel(name: str) -> Any:
    return _label(Beneficiary, name)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# The database holds no birth date before this (beneficiary_birth_after_1900).
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)


class _UpdatedAtMixin(forms.Form):
    # When the form was loaded: saving over someone else's newer changes is refused.
    updated_at = forms.DateTimeField(
        widget=forms.HiddenInput, error_messages={"required": _INCOMPLETE, "invalid": _INCOMPLETE}
    )


class BeneficiarySearchForm(forms.Form):
    full_name = forms.CharField(label=_("Name or alias"), max_length=svc.NAME_SEARCH_MAX_LENGTH, required=False)
    nik = forms.CharField(label=_("NIK"), max_length=30, required=False, help_text=_("16 digits, if known."))
    birth_year = forms.IntegerField(label=_("Birth year"), min_value=1900, required=False)
    regency = RegionField(
        label=_("Kab/kota"),
        levels=(RegionLevel.REGENCY,),
        required=False,
        help_text=_("Where the child lives or was found."),
    )

    def clean_nik(self) -> str:
        nik = normalise_nik(self.cleaned_data.get("nik"))
        if nik and not is_nik_shaped(nik):
            raise forms.ValidationError(_("A NIK has exactly 16 digits."))
        return nik

    def clean_birth_year(self) -> int | None:
        year = self.cleaned_data.get("birth_year")
        if year is not None and year > timezone.localdate().year:
            raise forms.ValidationError(_("The birth year cannot be in the future."))
        return year

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        name = svc.name_needle(data.get("full_name") or "")
        if not data.get("nik") and len(name) < svc.NAME_SEARCH_MIN_LENGTH and not self.errors:
            raise forms.ValidationError(
                _("Type at least %(count)d letters of the name, or the NIK."),
                params={"count": svc.NAME_SEARCH_MIN_LENGTH},
            )
        return data


class BeneficiaryForm(forms.Form):
    """The person's identity and situation. After is_valid(): `values()`, `warnings`."""

    full_name = forms.CharField(label=_blabel("full_name"), max_length=200)
    alias = forms.CharField(label=_blabel("alias"), max_length=100, required=False)
    sex = forms.ChoiceField(label=_blabel("sex"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(
        label=_blabel("birth_date"),
        required=False,
        widget=_date_input(),
        help_text=_("If it is not known, leave it empty and give an approximate age."),
    )
    approximate_age = forms.IntegerField(
        label=_("Approximate age (years)"),
        min_value=0,
        max_value=120,
        required=False,
        help_text=_("Only when the birth date is not known."),
    )
    birthplace = forms.CharField(label=_blabel("birthplace"), max_length=100, required=False)
    nik = forms.CharField(
        label=_blabel("nik"),
        max_length=30,
        required=False,
        help_text=_("16 digits, from the family card (KK), KIA or akta. Optional."),
    )
    kk_number = forms.CharField(label=_blabel("kk_number"), max_length=30, required=False, help_text=_("16 digits."))
    dtks_id = forms.CharField(label=_blabel("dtks_id"), max_length=50, required=False)
    village = RegionField(
        label=_blabel("village"),
        levels=(RegionLevel.VILLAGE,),
        help_text=_("The desa/kelurahan where the person lives, or was found."),
    )
    address = forms.CharField(label=_blabel("address"), max_length=300, required=False)
    cluster = forms.ModelChoiceField(label=_blabel("cluster"), queryset=Cluster.objects.filter(is_active=True))
    ppks_types = forms.ModelMultipleChoiceField(
        label=_blabel("ppks_types"),
        queryset=PpksType.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    ampk_categories = forms.ModelMultipleChoiceField(
        label=_blabel("ampk_categories"),
        queryset=AmpkCategory.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Children under 18 only."),
    )
    disability = forms.CharField(label=_blabel("disability"), max_length=200, required=False)
    school_status = forms.ChoiceField(
        label=_blabel("school_status"), choices=[("", "—"), *SchoolStatus.choices], required=False
    )
    school_name = forms.CharField(label=_blabel("school_name"), max_length=200, required=False)
    school_grade = forms.CharField(label=_blabel("school_grade"), max_length=20, required=False)
    religion = forms.ChoiceField(label=_blabel("religion"), choices=[("", "—"), *Religion.choices], required=False)

    def __init__(self, *args: Any, instance: Beneficiary | None = None, **kwargs: Any) -> None:
        self.instance = instance
        self.warnings: list[str] = []
        if instance is not None:
            initial = {name: getattr(instance, name) for name in svc.BENEFICIARY_FIELDS}
            initial["village"] = instance.village_id
            initial["cluster"] = instance.cluster_id
            initial["ampk_categories"] = list(instance.ampk_categories.values_list("pk", flat=True))
            initial["ppks_types"] = list(instance.ppks_types.values_list("pk", flat=True))
            if instance.birth_date_estimated:
                initial["birth_date"] = None
                initial["approximate_age"] = instance.age()
            initial.update(kwargs.pop("initial", None) or {})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean_nik(self) -> str:
        return normalise_nik(self.cleaned_data.get("nik"))

    def clean_birth_date(self) -> datetime.date | None:
        value: datetime.date | None = self.cleaned_data.get("birth_date")
        if value is not None and value < EARLIEST_BIRTH_DATE:
            raise forms.ValidationError(_("The birth date cannot be before 1900. Check the year."))
        return value

    def clean_kk_number(self) -> str:
        return normalise_kk(self.cleaned_data.get("kk_number"))

    def _birth(self, data: dict[str, Any]) -> tuple[datetime.date | None, bool]:
        birth_date, age = data.get("birth_date"), data.get("approximate_age")
        if birth_date is not None and age is not None:
            # The known date wins over an estimate (often prefilled from a report); only
            # a clear contradiction is worth a question.
            exact_age = Beneficiary(birth_date=birth_date).age()
            if exact_age is not None and abs(exact_age - age) > AGE_ESTIMATE_TOLERANCE:
                self.add_error(
                    "approximate_age",
                    _(
                        "The birth date makes the child %(exact)s years old, but the approximate age says "
                        "%(age)s. Correct one of them, or clear the approximate age."
                    )
                    % {"exact": exact_age, "age": age},
                )
            return birth_date, False
        if birth_date is not None:
            return birth_date, False
        if age is not None:
            instance = self.instance
            if instance is not None and instance.birth_date_estimated and instance.age() == age:
                # An unchanged estimate keeps its date: re-estimating would move it every year.
                return instance.birth_date, True
            return svc.estimated_birth_date(age), True
        parts = nik_facts_or_none(data.get("nik") or "")
        if parts is not None:
            return parts.birth_date, False  # the NIK carries the birth date
        if "birth_date" not in self.errors and "approximate_age" not in self.errors:
            self.add_error("birth_date", _("Enter the birth date, or an approximate age if it is not known."))
        return None, False

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        birth_date, estimated = self._birth(data)
        data["birth_date"], data["birth_date_estimated"] = birth_date, estimated
        check = svc.identity_check(
            nik=data.get("nik") or "",
            kk_number=data.get("kk_number") or "",
            sex=data.get("sex") or "",
            birth_date=birth_date,
            birth_date_estimated=estimated,
            has_ampk=bool(data.get("ampk_categories")),
        )
        already = set(self.errors)  # a field that failed its own cleaning is not judged twice
        for name, message in check.errors:
            if name not in already:
                self.add_error(name, message)
        self.warnings = check.warnings
        return data

    def values(self) -> dict[str, Any]:
        """The fields for beneficiary_create / beneficiary_update."""
        data = self.cleaned_data
        values = {name: data.get(name) for name in svc.BENEFICIARY_FIELDS}
        for name in ("alias", "birthplace", "dtks_id", "disability", "school_status", "school_name", "school_grade"):
            values[name] = values[name] or ""
        values["religion"] = values["religion"] or ""
        values["address"] = values["address"] or ""
        return values


class BeneficiaryCreateForm(OnceFormMixin, BeneficiaryForm):
    organisation = forms.ModelChoiceField(label=_("Registering organisation"), queryset=Organisation.objects.none())

    field_order = ["organisation"]

    def __init__(self, *args: Any, organisations: list[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast("forms.ModelChoiceField[Organisation]", self.fields["organisation"])
        field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations]).order_by("name")
        if len(organisations) == 1:
            field.initial = organisations[0].pk
            field.widget = forms.HiddenInput()


class BeneficiaryEditForm(_UpdatedAtMixin, BeneficiaryForm):
    def __init__(self, *args: Any, instance: Beneficiary, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})["updated_at"] = instance.updated_at.isoformat()
        super().__init__(*args, instance=instance, **kwargs)


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("Photo"),
        help_text=_("JPEG or PNG, at most 5 MB. Only people who can open this record see it."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )


class FamilyMemberForm(forms.Form):
    relation = forms.ChoiceField(label=_label(FamilyMember, "relation"), choices=Relation.choices)
    name = forms.CharField(label=_label(FamilyMember, "name"), max_length=200)
    nik = forms.CharField(
        label=_label(FamilyMember, "nik"), max_length=30, required=False, help_text=_("16 digits. Optional.")
    )
    phone = forms.CharField(label=_label(FamilyMember, "phone"), max_length=30, required=False)
    occupation = forms.CharField(label=_label(FamilyMember, "occupation"), max_length=100, required=False)
    receives_pkh = forms.BooleanField(label=_label(FamilyMember, "receives_pkh"), required=False)
    other_aid = forms.CharField(label=_label(FamilyMember, "other_aid"), max_length=200, required=False)
    is_legal_guardian = forms.BooleanField(label=_label(FamilyMember, "is_legal_guardian"), required=False)
    lives_with_beneficiary = forms.BooleanField(
        label=_label(FamilyMember, "lives_with_beneficiary"), required=False, initial=True
    )

    def __init__(self, *args: Any, instance: FamilyMember | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None:
            initial = {name: getattr(instance, name) for name in svc.FAMILY_FIELDS}
            initial.update(kwargs.pop("initial", None) or {})
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    def clean_nik(self) -> str:
        nik = normalise_nik(self.cleaned_data.get("nik"))
        problem = nik_problem(nik)
        if problem:
            raise forms.ValidationError(problem)
        return nik

    def clean_phone(self) -> str:
        phone = normalise_phone(self.cleaned_data.get("phone") or "")
        validate_phone(phone)
        return phone

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in svc.FAMILY_FIELDS}


class FamilyMemberCreateForm(OnceFormMixin, FamilyMemberForm):
    pass


class FamilyMemberEditForm(_UpdatedAtMixin, FamilyMemberForm):
    def __init__(self, *args: Any, instance: FamilyMember, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})["updated_at"] = instance.updated_at.isoformat()
        super().__init__(*args, instance=instance, **kwargs)


class MergeForm(OnceFormMixin, forms.Form):
    first = forms.IntegerField(widget=forms.HiddenInput)
    second = forms.IntegerField(widget=forms.HiddenInput)
    survivor = forms.TypedChoiceField(
        label=_("Keep which record?"),
        coerce=int,
        widget=forms.RadioSelect,
        help_text=_("The other record's cases, family and missing details move to the one you keep."),
    )
    reason = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        label=_("Why are these the same person?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. the same NIK on the family card, confirmed by a home visit."),
    )

    def __init__(self, *args: Any, first: Beneficiary, second: Beneficiary, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).update({"first": first.pk, "second": second.pk, "survivor": first.pk})
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["survivor"]).choices = [
            (first.pk, _("Keep no. %(pk)s, %(name)s") % {"pk": first.pk, "name": first.full_name}),
            (second.pk, _("Keep no. %(pk)s, %(name)s") % {"pk": second.pk, "name": second.full_name}),
        ]


class _WorkerChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.username


class CaseOpenForm(OnceFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(label=_("Owning organisation"), queryset=Organisation.objects.none())
    cluster = forms.ModelChoiceField(label=_("Cluster"), queryset=Cluster.objects.filter(is_active=True))
    basis = forms.ChoiceField(label=_("Basis"), choices=Basis.choices, widget=forms.RadioSelect)
    source = forms.ChoiceField(label=_("Source"), choices=CaseSource.choices)
    risk_level = forms.ChoiceField(label=_("Risk level"), choices=RiskLevel.choices, initial=RiskLevel.MEDIUM)
    is_confidential = forms.BooleanField(
        label=_("Confidential"),
        required=False,
        help_text=_(
            "For sexual crimes, trafficking, children in contact with the law: only the case manager "
            "and the supervisors see who the child is."
        ),
    )
    summary = forms.CharField(
        label=_("Presenting problem"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=5000
    )
    case_manager = _WorkerChoiceField(label=_("Case manager"), queryset=User.objects.none())
    supervisor = _WorkerChoiceField(label=_("Supervisor"), queryset=User.objects.none(), required=False)

    def __init__(
        self,
        *args: Any,
        organisations: list[Organisation],
        case_managers: QuerySet[User],
        supervisors: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        org_field = cast("forms.ModelChoiceField[Organisation]", self.fields["organisation"])
        org_field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations]).order_by("name")
        if len(organisations) == 1:
            org_field.widget = forms.HiddenInput()
        cast("forms.ModelChoiceField[User]", self.fields["case_manager"]).queryset = case_managers
        cast("forms.ModelChoiceField[User]", self.fields["supervisor"]).queryset = supervisors
