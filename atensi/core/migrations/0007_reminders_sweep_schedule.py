"""The reminders sweep runs every minute (django-celery-beat's DatabaseScheduler; the
schedule can be paused or changed in the admin)."""

from django.db import migrations

SWEEP = "atensi.reminders_sweep"


def add_sweep(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name="Reminders: plan, claim and deliver what is due",
        defaults={"task": SWEEP, "interval": every_minute, "enabled": True},
    )


def remove_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=SWEEP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("atensi", "0006_reminders"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(add_sweep, remove_sweep)]
