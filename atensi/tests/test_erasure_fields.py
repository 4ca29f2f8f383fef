"""Every text on a record tied to a child is either cleared by the retention run or kept on
purpose with a reason (atensi.erasure.scrub): a field added later fails here until decided."""

from __future__ import annotations

import pghistory.models
from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import models

from atensi.erasure.scrub import SCRUBS, Scrub
from cases.models import Beneficiary, Case, Report

TEXT = (models.CharField, models.TextField, models.JSONField, models.FileField, ArrayField)


def tied_to_a_child() -> set[type[models.Model]]:
    """Beneficiary, Case, the report a case came from, and every model holding a foreign key
    to one of them, and so on (a referral's messages)."""
    found: set[type[models.Model]] = {Beneficiary, Case, Report}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models():
            if model in found or issubclass(model, pghistory.models.Event | pghistory.models.Context):
                continue
            if any(f.is_relation and f.concrete and f.related_model in found for f in model._meta.get_fields()):
                found.add(model)
                grew = True
    return found


def undecided(scrub: Scrub | None, model: type[models.Model]) -> list[str]:
    if scrub is not None and scrub.delete:
        return []
    decided = set() if scrub is None else {*scrub.set, *scrub.json, *scrub.kept}
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, TEXT) and not f.choices and not f.primary_key and f.name not in decided
    ]


def test_every_text_tied_to_a_child_is_cleared_or_kept_with_a_reason() -> None:
    scrubs = {scrub.model: scrub for scrub in SCRUBS}
    problems = {
        model._meta.label: fields for model in tied_to_a_child() if (fields := undecided(scrubs.get(model), model))
    }
    assert problems == {}


def test_the_walk_finds_the_records_of_a_case() -> None:
    labels = {model._meta.label for model in tied_to_a_child()}
    assert {"cases.FamilyMember", "cases.Document", "referrals.Referral", "referrals.ReferralMessage"} <= labels


def test_every_kept_text_says_why() -> None:
    for scrub in SCRUBS:
        for name, reason in scrub.kept.items():
            scrub.model._meta.get_field(name)
            assert len(reason) > 10, (scrub.model, name)
