"""The acting user is typed where the rules live.

Every public function of the apps' services, selectors and permissions modules (found by
file name, packages included) names who acts: a parameter called `user`, `by`, `actor` or
`..._by` is annotated `User` (stakeholders.models.User, the AUTH user model) or `Actor`
(atensi.core.access). `User | None` only where the parameter defaults to None: leaving it
out says that no person acts (a management command, an import, the demo data); a caller
that has a person passes them. mypy keeps the annotations true; this test keeps them there.

The kernel (atensi.core) imports no app, so its few functions that take a user name
Django's `AbstractUser`, which `User` extends; they are outside this test.

Views take an `AuthenticatedRequest` (stakeholders.http), whose user is a `User` because
LoginRequiredMiddleware lets no one else reach a view; the last test keeps a view marked
@login_not_required from claiming one.
"""

from __future__ import annotations

import importlib
import inspect
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType, NoneType, UnionType

from django.urls import URLPattern, URLResolver, get_resolver

from atensi.core.access import Actor
from stakeholders.http import AuthenticatedRequest
from stakeholders.models import User

ROOT = Path(__file__).resolve().parent.parent
APPS = ("stakeholders", "cases", "referrals")
# services.py, selectors.py, permissions.py, and modules named for what they read
# (cases/record_selectors.py, referrals/case_selectors.py).
NAMES = ("services", "selectors", "permissions")
# Modules that hold services or selectors under the name of what they handle.
ALSO = (
    "cases.documents",
    "cases.intake",
    "cases.lists",
    "cases.records",
    "cases.timeline",
    "cases.workflow",
    "referrals.lists",
    "referrals.material",
    "referrals.messages",
    "stakeholders.agreements",
    "stakeholders.directory",
    "stakeholders.imports.plans",
    "stakeholders.workforce",
)


def _module_names() -> list[str]:
    found = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "tests" in parts or "migrations" in parts:
                continue
            if parts[-1] in NAMES or parts[-1].endswith(tuple(f"_{n}" for n in NAMES)):
                found.append(".".join(parts))
    return sorted({*found, *ALSO})


def _public_functions(module: ModuleType) -> Iterator[tuple[str, Callable[..., object]]]:
    for name, obj in vars(module).items():
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        function = inspect.unwrap(obj)
        if function.__module__ == module.__name__:
            yield name, function


# Parameters named like an actor that name someone else, each with its reason.
NOT_ACTORS = {
    ("cases.documents", "consent_create", "given_by"): "the family member who gave consent, not a portal user",
}


def _acts(module: str, function: str, parameter: str) -> bool:
    if (module, function, parameter) in NOT_ACTORS:
        return False
    return parameter in ("user", "by", "actor") or parameter.endswith("_by")


def _problem(parameter: inspect.Parameter, hint: object) -> str | None:
    if hint in (User, Actor):
        return None
    if typing.get_origin(hint) in (typing.Union, UnionType):
        args = set(typing.get_args(hint))
        if args in ({User, NoneType}, {Actor, NoneType}):
            if parameter.default is None:
                return None
            return "may be None but has no default None (pass the person, or default to None for the system)"
    return f"is {hint!r}, not User or Actor"


def _hint(function: Callable[..., object], parameter: str) -> object:
    """What typing.get_type_hints says of one parameter. One at a time, because some hints
    of other parameters (django-stubs' WithAnnotations[...]) exist for type checkers only."""

    def only(*args: object, **kwargs: object) -> None: ...

    only.__annotations__ = {parameter: function.__annotations__[parameter]}
    only.__module__ = function.__module__
    # Python 3.12 does not resolve a generic function's own type parameters by itself.
    params = {p.__name__: p for p in getattr(function, "__type_params__", ())}
    return typing.get_type_hints(only, globalns=function.__globals__, localns=params)[parameter]


def _untyped_actors(module: ModuleType) -> list[str]:
    problems = []
    for name, function in _public_functions(module):
        for parameter in inspect.signature(function).parameters.values():
            if not _acts(module.__name__, name, parameter.name):
                continue
            where = f"{module.__name__}.{name}({parameter.name})"
            if parameter.annotation is inspect.Parameter.empty:
                problems.append(f"{where} has no annotation")
                continue
            problem = _problem(parameter, _hint(function, parameter.name))
            if problem:
                problems.append(f"{where} {problem}")
    return problems


def test_the_rule_finds_the_modules() -> None:
    names = set(_module_names())
    assert {
        "cases.services",
        "cases.selectors",
        "cases.permissions",
        "cases.beneficiaries.services",
        "cases.record_selectors",
        "referrals.services",
        "referrals.permissions",
        "stakeholders.selectors",
        "stakeholders.imports.services",
    } <= names


def test_the_acting_user_is_typed() -> None:
    problems = [p for name in _module_names() for p in _untyped_actors(importlib.import_module(name))]
    assert not problems, "Type the acting user as User or Actor:\n" + "\n".join(problems)


def test_the_rule_bites() -> None:
    module = ModuleType("example_services")
    # A module written here, to prove the check reports what it should.
    exec(
        "from __future__ import annotations\n"
        "from typing import Any\n"
        "from stakeholders.models import User\n"
        "def case_close(*, case: int, by: Any) -> None: ...\n"
        "def case_note(*, case: int, recorded_by: User | None) -> None: ...\n"
        "def case_open(*, case: int, opened_by: User | None = None, user: User) -> None: ...\n"
        "def case_list(user) -> None: ...\n",
        module.__dict__,
    )
    for function in vars(module).values():
        if inspect.isfunction(function):
            function.__module__ = module.__name__
    assert _untyped_actors(module) == [
        "example_services.case_close(by) is typing.Any, not User or Actor",
        "example_services.case_note(recorded_by) may be None but has no default None "
        "(pass the person, or default to None for the system)",
        "example_services.case_list(user) has no annotation",
    ]


def _views(patterns: list[URLPattern | URLResolver]) -> Iterator[tuple[str, Callable[..., object]]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        else:
            yield str(pattern.pattern), pattern.callback


def test_no_view_open_to_anyone_claims_a_signed_in_user() -> None:
    wrong = []
    checked = 0
    for route, view in _views(get_resolver().url_patterns):
        function = inspect.unwrap(view)
        if not inspect.isfunction(function):
            continue  # class-based and admin views take Django's own HttpRequest
        parameters = list(inspect.signature(function).parameters)
        if not parameters:
            continue
        hint = typing.get_type_hints(function).get(parameters[0])
        if hint is AuthenticatedRequest:
            checked += 1
            if getattr(view, "login_required", True) is False:
                wrong.append(f"{route}: {function.__module__}.{function.__name__}")
    assert checked > 50
    assert not wrong, "@login_not_required views take an HttpRequest, not an AuthenticatedRequest:\n" + "\n".join(wrong)
