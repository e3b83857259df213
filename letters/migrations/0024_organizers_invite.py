"""Organizers invite partners: the permissions of invitations and of the suppression list are theirs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["invitation", "suppression"]


def organizers_invite(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Organizer")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="letters", content_type__model__in=MODELS)
    )


class Migration(migrations.Migration):
    dependencies = [("letters", "0023_invitations_and_suppressions")]

    operations = [migrations.RunPython(organizers_invite, migrations.RunPython.noop)]
