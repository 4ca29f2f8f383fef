"""Where the portal's files are: the repository and the data directory (ATENSI_VAR_DIR).

A module of its own, imported by base.py, so that local.py can point the embedded database
and Redis into the data directory before base.py requires DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

VAR_DIR = Path(environ.Env().str("ATENSI_VAR_DIR", default=str(BASE_DIR / "var")))
