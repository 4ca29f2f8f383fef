"""Rules of the code's shape that a reviewer would otherwise have to remember.

Views read through selectors, which scope what a user may see; a view that queries a
model's manager itself can skip that scoping without anyone noticing.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("atensi", "stakeholders", "cases", "referrals")


def _view_modules() -> list[Path]:
    found: list[Path] = []
    for app in APPS:
        base = ROOT / app
        found += [p for p in base.rglob("*.py") if "views" in p.relative_to(base).parts]
        found += [p for p in base.rglob("*views.py") if "tests" not in p.relative_to(base).parts]
    return sorted(set(found))


def _manager_uses(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.relative_to(root)}:{node.lineno} {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"objects", "_default_manager", "_base_manager"}
    ]


def test_there_are_views_to_check() -> None:
    names = {str(p.relative_to(ROOT)) for p in _view_modules()}
    assert {"cases/views/case.py", "referrals/views/send.py", "stakeholders/views/staff.py"} <= names


def test_views_never_touch_model_managers() -> None:
    uses = [use for path in _view_modules() for use in _manager_uses(path)]
    assert not uses, "Views read through selectors (scoped), never Model.objects:\n" + "\n".join(uses)


def test_the_check_sees_a_manager_use(tmp_path: Path) -> None:
    module = tmp_path / "views.py"
    module.write_text("def view(request):\n    return Case.objects.get(pk=1)\n")
    assert _manager_uses(module, root=tmp_path) == ["views.py:2 Case.objects"]
