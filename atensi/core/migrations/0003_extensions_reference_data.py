"""PostgreSQL extensions the portal relies on, and the programme's reference data."""

from django.contrib.postgres.operations import CreateExtension, TrigramExtension
from django.db import migrations


def load(apps, schema_editor):
    from atensi.core.reference import load_reference_data

    load_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("atensi", "0002_initial")]
    operations = [
        TrigramExtension(),  # fuzzy name search (duplicates, region picker)
        CreateExtension("cube"),
        CreateExtension("earthdistance"),  # nearest-service finder
        migrations.RunPython(load, migrations.RunPython.noop),
    ]
