"""The programme's response deadlines: emergency 24 hours, high 3 days, normal 7 days."""

from django.db import migrations

DEFAULTS = {"emergency": 24, "high": 72, "normal": 168}


def add_defaults(apps, schema_editor):
    ResponseDeadline = apps.get_model("referrals", "ResponseDeadline")
    for urgency, hours in DEFAULTS.items():
        ResponseDeadline.objects.get_or_create(urgency=urgency, defaults={"hours": hours})


class Migration(migrations.Migration):
    dependencies = [("referrals", "0001_initial")]

    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
