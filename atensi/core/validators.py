"""The NIK and phone validators under their old import path.

The migrations name `atensi.core.validators.validate_nik` and `validate_phone`; the rules
themselves live in `atensi.core.values`. These are the same function objects, so the
migration autodetector sees no change.
"""

from __future__ import annotations

from atensi.core.values import NIK_RE, PHONE_RE, NikFacts, normalise_phone, parse_nik, validate_nik, validate_phone

__all__ = ["NIK_RE", "PHONE_RE", "NikFacts", "normalise_phone", "parse_nik", "validate_nik", "validate_phone"]
