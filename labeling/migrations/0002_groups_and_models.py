"""Roles (contributor, moderator, staff) with their permissions, and the installed OCR models."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen here: later permissions come in later migrations.
PERMISSIONS = {
    "contributor": [
        ("labeling", "add_document"),
        ("labeling", "add_transcription"),
        ("labeling", "change_transcription"),
    ],
    "moderator": [
        ("labeling", "moderate_line"),
        ("labeling", "view_document"),
        ("labeling", "view_page"),
        ("labeling", "view_line"),
        ("labeling", "change_line"),
        ("labeling", "view_transcription"),
    ],
    "staff": [
        ("labeling", "moderate_line"),
        ("labeling", "view_document"),
        ("labeling", "view_page"),
        ("labeling", "view_line"),
        ("labeling", "change_line"),
        ("labeling", "view_transcription"),
        ("labeling", "view_ocrmodel"),
        ("labeling", "add_ocrmodel"),
        ("labeling", "change_ocrmodel"),
    ],
}

# Debian's language packs, installed by `make run`; Arabic is the default reader.
INSTALLED_MODELS = [
    ("Tesseract Arabic (Debian ara)", "ara", True, "Debian's integer Arabic model."),
    ("Tesseract Persian (Debian fas)", "fas", False, "Debian's integer Persian model."),
]


def create_groups_and_models(apps, schema_editor):
    # Permissions are normally made after migrate; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for app_label, codename in perms:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    OcrModel = apps.get_model("labeling", "OcrModel")
    for name, language, is_default, description in INSTALLED_MODELS:
        OcrModel.objects.get_or_create(
            name=name,
            defaults={"language": language, "is_default": is_default, "description": description},
        )


def remove_groups_and_models(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(PERMISSIONS)).delete()
    apps.get_model("labeling", "OcrModel").objects.filter(
        name__in=[m[0] for m in INSTALLED_MODELS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups_and_models, remove_groups_and_models)]
