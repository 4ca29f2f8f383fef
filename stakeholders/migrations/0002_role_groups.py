"""Create one auth Group per role with the permissions stakeholders/roles.py defines."""

from django.db import migrations


def forwards(apps, schema_editor):
    from stakeholders.roles import sync_role_groups

    sync_role_groups(apps)


def backwards(apps, schema_editor):
    from stakeholders.roles import ROLE_PERMISSIONS, group_name

    apps.get_model("auth", "Group").objects.filter(name__in=[group_name(r) for r in ROLE_PERMISSIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stakeholders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
