"""Development tooling: fail when a Python module outgrows what one reader can hold.

`python -m atensi.lint_size` (run by `make lint`) lists every module over the limit
(800 lines) and exits 1. Tests and migrations are exempt: a test module grows with the
behaviour it covers, and migrations are generated. A module past ~500 lines should become
a package by layer before it gets here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

MAX_LINES = 800
ROOT = Path(__file__).resolve().parent.parent
# Not the project's code: the virtualenv, runtime data, caches.
SKIP_DIRS = {".venv", "venv", "var", "node_modules", ".git", "__pycache__", ".mypy_cache", ".ruff_cache", "static"}


def _exempt(path: Path) -> bool:
    parts = path.parts
    return (
        "migrations" in parts
        or "tests" in parts
        or path.name.startswith("test_")
        or path.name in {"conftest.py", "tests.py"}
    )


def modules(root: Path) -> Iterator[Path]:
    """The project's own non-test, non-migration Python modules under `root`."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIP_DIRS.intersection(relative.parts[:-1]) or relative.parts[0].startswith("."):
            continue
        if not _exempt(relative):
            yield path


def line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _line in handle)


def oversized(root: Path, limit: int = MAX_LINES) -> list[tuple[Path, int]]:
    """(module, lines) for every module over `limit`, largest first."""
    found = [(path.relative_to(root), count) for path in modules(root) if (count := line_count(path)) > limit]
    return sorted(found, key=lambda item: (-item[1], str(item[0])))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atensi.lint_size", description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=MAX_LINES, help=f"most lines a module may have ({MAX_LINES})")
    parser.add_argument("--root", type=Path, default=ROOT, help="the project directory")
    args = parser.parse_args(argv)
    offenders = oversized(args.root, args.max)
    if not offenders:
        print(f"lint_size: no module over {args.max} lines")
        return 0
    print(f"lint_size: {len(offenders)} module(s) over {args.max} lines; split them into a package by layer:")
    for path, count in offenders:
        print(f"  {path}: {count} lines")
    return 1


if __name__ == "__main__":
    sys.exit(main())
