"""Loading the programme's reference data (bundled CSVs in atensi/core/reference/)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.db import transaction

REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def _rows(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _upsert(model: Any, rows: list[dict[str, Any]]) -> int:
    """Insert or update by code in one statement; idempotent, never duplicates."""
    objs = [model(**row) for row in rows]
    fields = [k for k in rows[0] if k != "code"]
    model.objects.bulk_create(objs, update_conflicts=True, unique_fields=["code"], update_fields=fields)
    return len(objs)


@transaction.atomic
def load_reference_data(apps: Any = None) -> dict[str, int]:
    """Clusters, service components, AMPK categories and PPKS types. Usable from migrations."""
    get = (lambda name: apps.get_model("atensi", name)) if apps else _global_model
    atensi_rows = _rows("atensi.csv")
    counts = {}
    for group, model_name in (("cluster", "Cluster"), ("component", "ServiceComponent")):
        rows = [
            {"code": r["code"], "name_id": r["name_id"], "name_en": r["name_en"], "position": i, "is_active": True}
            for i, r in enumerate(r for r in atensi_rows if r["group"] == group)
        ]
        counts[model_name] = _upsert(get(model_name), rows)
    counts["AmpkCategory"] = _upsert(
        get("AmpkCategory"),
        [
            {"code": r["code"], "name_id": r["name_id"], "name_en": r["name_en"], "position": i, "is_active": True}
            for i, r in enumerate(_rows("ampk_categories.csv"))
        ],
    )
    clusters = {c.code: c.pk for c in get("Cluster").objects.all()}
    counts["PpksType"] = _upsert(
        get("PpksType"),
        [
            {
                "code": r["code"],
                "name_id": r["name_id"],
                "name_en": r["name_en"],
                "position": i,
                "is_active": True,
                "cluster_id": clusters.get(r["cluster"]) if r["cluster"] else None,
            }
            for i, r in enumerate(_rows("ppks_types.csv"))
        ],
    )
    return counts


def _global_model(name: str) -> Any:
    from django.apps import apps as global_apps

    return global_apps.get_model("atensi", name)
