"""The project layer's tasks, found by Celery's autodiscovery in the `atensi` app (their beat
schedules are in atensi/core/schedules.py, the one list beat has)."""

from __future__ import annotations

from atensi.core.schedules import DASHBOARDS_WARM, MAP_RECOUNT
from atensi.core.typed_task import task


@task(name=MAP_RECOUNT, acks_late=True, soft_time_limit=120, time_limit=130)
def figures_map_recount() -> int:
    """Keep the national map's default counts in the cache (beat, every few minutes)."""
    from atensi.figures_map.figures import recount_national

    return recount_national()


@task(name=DASHBOARDS_WARM, acks_late=True, soft_time_limit=540, time_limit=570)
def dashboards_warm() -> int:
    """This month's figures of Indonesia and of every province, counted ahead into the cache
    (beat, every ten minutes), so that a national or provincial reader never waits for a
    million cases to be counted. Exact readers always count live."""
    from atensi.dashboards.compose import warm_region_figures
    from stakeholders.selectors import regions_named

    return warm_region_figures(["", *(code for code, _name in regions_named())])
