"""The dashboards' periodic task: this month's figures of Indonesia and of every province,
counted ahead into the cache (beat, every ten minutes), so that a national or provincial
reader never waits for a million cases to be counted. Exact readers always count live."""

from __future__ import annotations

from atensi.core.typed_task import task
from stakeholders.selectors import regions_named

from .compose import warm_region_figures


@task(name="atensi.dashboards_warm", acks_late=True, soft_time_limit=540, time_limit=570)
def dashboards_warm() -> int:
    """Thin: which regions, then compose's warming; the number of dashboards counted."""
    return warm_region_figures(["", *(code for code, _name in regions_named())])
