"""Create the "Ops viewer" and "Ops manager" groups (rules in calls/roles.py)."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from calls.roles import ensure_permissions, roles_sync

    ensure_permissions(apps=apps)
    roles_sync(apps=apps)


def delete_roles(apps, schema_editor):
    from calls.roles import OPS_MANAGER, OPS_VIEWER

    apps.get_model("auth", "Group").objects.filter(name__in=[OPS_VIEWER, OPS_MANAGER]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("calls", "0003_outbound_attempts_decisions_switch"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
