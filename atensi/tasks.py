"""The project layer's tasks, found by Celery's autodiscovery in the `atensi` app (their beat
schedules are in atensi/core/schedules.py, the one list beat has)."""

from __future__ import annotations

import logging

from atensi.core.schedules import DASHBOARDS_WARM, ERASE_EXPIRED, MAP_RECOUNT
from atensi.core.typed_task import task

logger = logging.getLogger(__name__)


@task(name=MAP_RECOUNT, acks_late=True, soft_time_limit=120, time_limit=130)
def figures_map_recount() -> int:
    """Keep the national map's default counts in the cache (beat, every few minutes)."""
    from atensi.figures_map.figures import recount_national

    return recount_national()


@task(name=DASHBOARDS_WARM, acks_late=True, soft_time_limit=540, time_limit=570)
def dashboards_warm() -> int:
    """This month's figures of Indonesia, of every province and of the organisations too
    large to count live, counted ahead into the cache (beat, every ten minutes), so that no
    reader waits for a million cases to be counted (compose.cached_figures)."""
    from atensi.dashboards.compose import slow_organisations, warm_organisation_figures, warm_region_figures
    from stakeholders.selectors import regions_named

    regions = warm_region_figures(["", *(code for code, _name in regions_named())])
    return regions + warm_organisation_figures(slow_organisations())


@task(name=ERASE_EXPIRED, acks_late=True, soft_time_limit=6 * 3600, time_limit=6 * 3600 + 60)
def erase_expired() -> int:
    """The monthly retention run (atensi.erasure): how many records it anonymised. A run
    already in progress (the command, say) makes this one a no-op, logged."""
    from atensi.core.errors import ApplicationError
    from atensi.core.models import ErasureRun
    from atensi.erasure.run import erasure_run

    try:
        run = erasure_run(dry_run=False, trigger=ErasureRun.Trigger.BEAT)
    except ApplicationError as error:
        logger.warning("retention run skipped: %s", error)
        return 0
    return run.beneficiaries
