"""Every free-text field has a length limit (atensi.core.limits): the models' (admin's and
the model forms' fields come from them) and every hand-written form field of the portal."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from django import forms
from django.apps import apps
from django.db import models

from atensi.core.limits import TEXT_MAX_LENGTH

PACKAGES = ("atensi", "stakeholders", "cases", "referrals")
# Not form modules of the running portal: tests, migrations, settings, dev tooling.
SKIPPED = (".tests", ".migrations", ".testing", ".settings", ".devstack", ".management")


def _project_forms() -> list[type[forms.BaseForm]]:
    found: dict[str, type[forms.BaseForm]] = {}
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, f"{package}."):
            if any(part in info.name for part in SKIPPED):
                continue
            module = importlib.import_module(info.name)
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                    found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(found.values())


def test_every_form_text_field_has_a_limit():
    unlimited = [
        f"{form.__module__}.{form.__qualname__}.{name}"
        for form in _project_forms()
        for name, field in form.base_fields.items()
        if isinstance(field, forms.CharField)
        and not isinstance(field, forms.UUIDField)
        and (field.max_length is None or field.max_length > TEXT_MAX_LENGTH)
    ]
    assert len(_project_forms()) > 50  # the walk found the portal's forms
    assert not unlimited, unlimited


def test_every_text_column_has_a_limit():
    unlimited = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in {"atensi", "stakeholders", "cases", "referrals"}
        for field in model._meta.get_fields()
        # pghistory's own columns of the event tables (pgh_label) are written by its triggers.
        if isinstance(field, models.TextField) and field.max_length is None and not field.name.startswith("pgh_")
    ]
    assert not unlimited, unlimited
