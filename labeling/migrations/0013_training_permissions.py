"""Staff train models on releases (add, see and cancel training runs)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADDED = {
    "staff": ["view_trainingrun", "add_trainingrun"],
}


def add(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ADDED.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="labeling", codename__in=codenames)
        )


def remove(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ADDED.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="labeling", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [("labeling", "0012_release_permissions")]

    operations = [migrations.RunPython(add, remove)]
