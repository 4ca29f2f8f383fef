"""The module-size gate of `make lint`: no non-test module over 800 lines."""

from __future__ import annotations

from pathlib import Path

from atensi import lint_size


def _write(root: Path, relative: str, lines: int) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x = 1\n" * lines)


def test_it_lists_modules_over_the_limit_largest_first(tmp_path, capsys):
    _write(tmp_path, "app/big.py", 900)
    _write(tmp_path, "app/bigger.py", 1000)
    _write(tmp_path, "app/fine.py", 800)
    assert lint_size.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.index("app/bigger.py: 1000 lines") < out.index("app/big.py: 900 lines")
    assert "fine.py" not in out


def test_tests_migrations_and_the_virtualenv_are_exempt(tmp_path, capsys):
    for relative in (
        "app/tests/test_views.py",
        "app/tests/factories.py",
        "tests/bench/test_bench.py",
        "app/test_things.py",
        "app/conftest.py",
        "app/migrations/0001_initial.py",
        ".venv/lib/site.py",
        "var/run/x.py",
    ):
        _write(tmp_path, relative, 2000)
    assert lint_size.main(["--root", str(tmp_path)]) == 0
    assert "no module over 800 lines" in capsys.readouterr().out


def test_the_project_keeps_every_module_under_the_limit():
    assert lint_size.oversized(lint_size.ROOT) == []
