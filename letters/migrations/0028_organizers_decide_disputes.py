"""Organizers read and decide disputes (which carry a reader's address); Moderators do not."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def organizers_decide_disputes(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Organizer")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="letters", content_type__model="dispute")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0027_signature_suspension_verification_dispute"),
    ]

    operations = [migrations.RunPython(organizers_decide_disputes, migrations.RunPython.noop)]
