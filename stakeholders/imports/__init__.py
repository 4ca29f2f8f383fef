"""Spreadsheet imports of organisations and workforce: read, validate, preview, confirm.

This package owns the whole path from an uploaded CSV or XLSX file to saved rows, one
layer a module:

- `columns` names each import's columns (and the aliases a spreadsheet may use) and writes
  the templates;
- `reading.read_table` turns the upload into rows of text, or refuses the file as a whole
  (wrong type, a disguised file, too large, not UTF-8, damaged) with a message in plain words;
- `cells` parses one cell (dates, phones, NIKs, yes/no, regions, clusters...);
- `plans.plan_organisations` / `plan_workforce` validate every row (`rows.Row`) and resolve
  region codes and names, existing codes, clusters and components with a few set-based
  queries for the whole file, giving a `rows.Plan`: normalised rows, row errors and the
  objects to write;
- `services.import_preview` keeps the normalised rows in an ImportBatch; nothing else is saved;
- `services.organisation_import_confirm` / `workforce_import_confirm` plan the stored rows
  again, under locks, and write them in bulk in one transaction: every row or none;
- `selectors` reads batches for the preview page and the list of recent imports.

Everything a caller needs is re-exported here (`from stakeholders import imports`).

Normalising is idempotent (a village name becomes its code, a date its ISO form), so the
confirmation re-validates exactly what the preview showed, against the register as it is now.

Why the writes are not `services.organisation_create` per row: that costs about 20 queries a
row (foreign key and constraint checks, savepoints, M2M sets) and took 12.9 s for 1,000 rows.
Each row here meets the same rules instead — the model's field validators (full_clean without
its queries), `services.organisation_check_regions`, the pin on the village, and for workers
`services.workforce_check` — and the database constraints stay the last guard.

Why a Dinas admin may set a child's kind and accreditation here although
`services.organisation_update` keeps those for national admins: the Dinas Sosial keeps the
register of the institutions it licenses, and this path only ever updates organisations
whose parent is the importer (national admins: any), limited to the kinds in
ADMIN_IMPORTABLE_KINDS. It never changes a parent, coverage or the active flag.
"""

from __future__ import annotations

from .cells import CellError, parse_date
from .columns import (
    COLUMNS,
    ORGANISATION_COLUMNS,
    QUIET_COLUMNS,
    WORKFORCE_COLUMNS,
    Column,
    template_csv,
    template_xlsx,
)
from .plans import ADMIN_IMPORTABLE_KINDS, PLANNERS, plan_organisations, plan_workforce
from .reading import HeaderMap, Table, map_headers, read_table, table_rows
from .rows import Plan
from .selectors import PREVIEW_ROWS, import_batch_get, import_batches_of
from .services import (
    import_confirm,
    import_discard,
    import_preview,
    organisation_import_confirm,
    workforce_import_confirm,
)

__all__ = [
    "ADMIN_IMPORTABLE_KINDS",
    "COLUMNS",
    "ORGANISATION_COLUMNS",
    "PLANNERS",
    "PREVIEW_ROWS",
    "QUIET_COLUMNS",
    "WORKFORCE_COLUMNS",
    "CellError",
    "Column",
    "HeaderMap",
    "Plan",
    "Table",
    "import_batch_get",
    "import_batches_of",
    "import_confirm",
    "import_discard",
    "import_preview",
    "map_headers",
    "organisation_import_confirm",
    "parse_date",
    "plan_organisations",
    "plan_workforce",
    "read_table",
    "table_rows",
    "template_csv",
    "template_xlsx",
    "workforce_import_confirm",
]
