"""The project layer's tasks (found by Celery's autodiscovery in the `atensi` app), and the
beat schedule they need, made sure of after every migrate as the kernel's are."""

from __future__ import annotations

from typing import Any

from atensi.core.typed_task import task

MAP_RECOUNT = "atensi.figures_map_recount"
MAP_RECOUNT_MINUTES = 4  # within ATENSI_MAP_CACHE_SECONDS' default 5 minutes: never stale


@task(name=MAP_RECOUNT, acks_late=True, soft_time_limit=120, time_limit=130)
def figures_map_recount() -> int:
    """Keep the national map's default counts in the cache (beat, every few minutes)."""
    from atensi.figures_map.figures import recount_national

    return recount_national()


def ensure_schedules(**kwargs: Any) -> None:
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every, _ = IntervalSchedule.objects.get_or_create(every=MAP_RECOUNT_MINUTES, period="minutes")
    PeriodicTask.objects.get_or_create(
        task=MAP_RECOUNT,
        defaults={"name": "Map: count the national map's open cases again", "interval": every},
    )
