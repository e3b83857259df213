"""
The "Moderator" group: reviews and approves signatures (view and change them),
reads letters, individuals and organizations, edits no letter and deletes
nothing. Staff users put in this group can do exactly that in /admin/.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    ("letters", "signature", ["view", "change"]),
    ("letters", "letter", ["view"]),
    ("letters", "delivery", ["view"]),
    ("signatories", "individual", ["view"]),
    ("signatories", "organization", ["view"]),
]


def create_moderator_group(apps, schema_editor):
    # Permissions are normally created after all migrations ran; a fresh
    # database needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderator")
    for app_label, model, actions in MODERATOR_PERMISSIONS:
        for action in actions:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            )


def remove_moderator_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderator").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("letters", "0002_delivery_signature_ids"),
        ("signatories", "0002_dismissed_duplicate"),
    ]

    operations = [migrations.RunPython(create_moderator_group, remove_moderator_group)]
