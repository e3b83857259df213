"""
When a letter was closed, recorded: retention counted from the closed letter's
last save, so saving it again (a translation, a typo) put the purge off. Letters
closed before this count from their last save, as they did.
"""

from django.db import migrations, models


def from_last_save(apps, schema_editor):
    Letter = apps.get_model("letters", "Letter")
    Letter.objects.filter(status="closed", closed_at=None).update(closed_at=models.F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0012_admin_history_without_private_data"),
    ]

    operations = [
        migrations.AddField(
            model_name="letter",
            name="closed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(from_last_save, migrations.RunPython.noop),
    ]
