"""The periodic tasks the portal needs, in django-celery-beat's tables.

Made sure of after every migrate and test flush (post_migrate), as the reference data is:
an admin may change or disable a schedule in the admin and it stays so; a deleted one
comes back (disable it instead).
"""

from __future__ import annotations

from typing import Any

SWEEP = "atensi.reminders_sweep"
DIGEST = "atensi.notifications_digest"
CLEANUP = "atensi.notifications_cleanup"
# The project layer's (atensi/tasks.py), named here so beat has one list.
DASHBOARDS_WARM = "atensi.dashboards_warm"
MAP_RECOUNT = "atensi.figures_map_recount"
MAP_RECOUNT_MINUTES = 4  # within ATENSI_MAP_CACHE_SECONDS' default 5 minutes: never stale
ERASE_EXPIRED = "atensi.erase_expired"


def ensure_schedules(**kwargs: Any) -> None:
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        task=SWEEP,
        defaults={"name": "Reminders: plan, claim and deliver what is due", "interval": every_minute},
    )

    def crontab(minute: str, hour: str) -> CrontabSchedule:
        schedule, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*", timezone="Asia/Jakarta"
        )
        return schedule

    # Every zone of Indonesia is a whole number of hours from WIB: on the hour in Jakarta
    # is on the hour in Makassar and Jayapura too.
    PeriodicTask.objects.get_or_create(
        task=DIGEST,
        defaults={"name": "Notifications: send the daily digests whose hour has come", "crontab": crontab("0", "*")},
    )
    every_ten_minutes, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.get_or_create(
        task=DASHBOARDS_WARM,
        defaults={
            "name": "Dashboards: count this month's national and provincial figures into the cache",
            "interval": every_ten_minutes,
        },
    )
    every_few_minutes, _ = IntervalSchedule.objects.get_or_create(every=MAP_RECOUNT_MINUTES, period="minutes")
    PeriodicTask.objects.get_or_create(
        task=MAP_RECOUNT,
        defaults={"name": "Map: count the national map's open cases again", "interval": every_few_minutes},
    )
    # The retention run, monthly, at night on the first of the month.
    monthly, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_week="*", day_of_month="1", month_of_year="*", timezone="Asia/Jakarta"
    )
    PeriodicTask.objects.get_or_create(
        task=ERASE_EXPIRED,
        defaults={"name": "Retention: anonymise the beneficiaries past the retention period", "crontab": monthly},
    )
    PeriodicTask.objects.get_or_create(
        task=CLEANUP,
        defaults={
            "name": "Notifications: delete old notifications, reminders and temporary rows",
            "crontab": crontab("30", "2"),
        },
    )
