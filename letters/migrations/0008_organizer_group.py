"""
The "Organizer" group: every permission of the letters and signatories apps,
including the staff export with private data (`letters.export_signature`),
which Moderators do not have.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ORGANIZER_APPS = ["letters", "signatories"]


def create_organizer_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; a fresh
    # database needs them now (the export permission is new in 0007).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Organizer")
    group.permissions.add(*Permission.objects.filter(content_type__app_label__in=ORGANIZER_APPS))


def remove_organizer_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Organizer").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0007_signature_export_permission"),
        ("signatories", "0002_dismissed_duplicate"),
    ]

    operations = [migrations.RunPython(create_organizer_group, remove_organizer_group)]
