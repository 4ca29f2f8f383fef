"""Fail early, and say how to fix it, when the browser tests have no Chromium to drive."""

from __future__ import annotations

import sys

from atensi.testing.browser import chromium_path


def main() -> int:
    if chromium_path():
        return 0
    print(
        "Chromium is needed for the browser tests and was not found.\n"
        "Install Debian's package:  sudo apt-get install -y chromium\n"
        "(or set CHROMIUM_PATH to a Chromium/Chrome binary). Playwright's own browser download is not used.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
