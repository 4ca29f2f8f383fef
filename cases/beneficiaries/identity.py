"""Identity checks of a person: NIK against sex and birth date, KK, birth date, AMPK age.

The NIK's own rule is the kernel's (atensi.core.values); this module adds what only a case
knows: the sex and birth date entered beside it, and today's list of kecamatan.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from atensi.core.errors import ApplicationError
from atensi.core.values import NikFacts, is_kk_shaped, parse_nik
from stakeholders.models import Region, RegionLevel

from ..models import Sex

ADULT_AGE = 18


def _dmy(value: datetime.date) -> str:
    return value.strftime("%d-%m-%Y")


def estimated_birth_date(age: int, *, today: datetime.date | None = None) -> datetime.date:
    """An approximate age as a birth date: 1 July of (this year − age), never in the future."""
    today = today or timezone.localdate()
    return min(datetime.date(today.year - age, 7, 1), today)


def age_on(birth_date: datetime.date, today: datetime.date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def nik_district_known(code: str) -> bool:
    return Region.objects.filter(code=code, level=RegionLevel.DISTRICT).exists()


@dataclass
class IdentityCheck:
    """What is wrong (field, message) and what deserves a second look (warnings)."""

    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    nik_parts: NikFacts | None = None

    def raise_first(self) -> None:
        if self.errors:
            name, message = self.errors[0]
            raise ApplicationError(message, field=name)


def identity_check(
    *,
    nik: str = "",
    kk_number: str = "",
    sex: str = "",
    birth_date: datetime.date | None = None,
    birth_date_estimated: bool = False,
    has_ampk: bool = False,
    today: datetime.date | None = None,
) -> IdentityCheck:
    """Check a person's identifiers against each other.

    - NIK: 16 digits, a real date in digits 7-12 (day + 40 for women); if a birth date and
      a sex are given they must agree with it, and the message says which part does not.
      An estimated birth date (from an approximate age) is not compared.
    - Digits 1-6 not a kecamatan of today's list: only a warning, codes change.
    - KK: 16 digits, nothing more (family card numbers follow no checkable pattern).
    - No birth date in the future; no AMPK category for someone 18 or over.
    """
    today = today or timezone.localdate()
    check = IdentityCheck()
    if birth_date is not None and birth_date > today:
        check.errors.append(
            (
                "birth_date",
                _("The birth date %(date)s is in the future. Check the year.") % {"date": _dmy(birth_date)},
            )
        )
    if kk_number and not is_kk_shaped(kk_number):
        check.errors.append(
            (
                "kk_number",
                _("A family card (KK) number has exactly 16 digits; %(value)s has %(count)d characters.")
                % {"value": kk_number, "count": len(kk_number)},
            )
        )
    if nik:
        try:
            parts = parse_nik(nik, today=today)
        except ValidationError as exc:
            check.errors.append(("nik", str(exc.messages[0])))
        else:
            check.nik_parts = parts
            check.errors.extend(
                _nik_disagreements(parts, sex=sex, birth_date=birth_date, estimated=birth_date_estimated)
            )
            if parts.birth_date > today:
                check.errors.append(
                    (
                        "nik",
                        _("The NIK says born %(date)s, which is in the future. Check digits 7 to 12.")
                        % {"date": _dmy(parts.birth_date)},
                    )
                )
            if not nik_district_known(parts.district_code):
                check.warnings.append(
                    _(
                        "Digits 1 to 6 of the NIK (%(code)s) are not a kecamatan in today's list of regions. "
                        "Codes change when regions are split, so the NIK was accepted; please compare it "
                        "with the family card (KK)."
                    )
                    % {"code": parts.district_code}
                )
    if has_ampk and birth_date is not None and birth_date <= today:
        age = age_on(birth_date, today)
        if age >= ADULT_AGE:
            check.errors.append(
                (
                    "ampk_categories",
                    _(
                        "AMPK categories are for children under 18, and this person is %(age)d. "
                        "Remove the AMPK categories or correct the birth date."
                    )
                    % {"age": age},
                )
            )
    return check


def _nik_disagreements(
    parts: NikFacts, *, sex: str, birth_date: datetime.date | None, estimated: bool
) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if sex and sex != parts.sex:
        if parts.sex == Sex.FEMALE:
            message = _("The NIK's day of birth is above 40, which means female, but the sex entered is %(sex)s.")
        else:
            message = _("The NIK's day of birth is 40 or below, which means male, but the sex entered is %(sex)s.")
        problems.append(("nik", message % {"sex": Sex(sex).label}))
    if birth_date is not None and not estimated:
        # A NIK writes the year with two digits: 1915 and 2015 are the same NIK.
        nik_date = parts.birth_date
        if (nik_date.day, nik_date.month, nik_date.year % 100) != (
            birth_date.day,
            birth_date.month,
            birth_date.year % 100,
        ):
            problems.append(
                (
                    "nik",
                    _("The NIK says born %(nik_date)s but the birth date entered is %(entered)s.")
                    % {"nik_date": _dmy(nik_date), "entered": _dmy(birth_date)},
                )
            )
    return problems
