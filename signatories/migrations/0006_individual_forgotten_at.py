from django.db import migrations, models


def erased_before(apps, schema_editor):
    """Records an erasure emptied before the field existed: their name is "Erased signatory #<pk>"."""
    Individual = apps.get_model("signatories", "Individual")
    for person in Individual.objects.filter(name__startswith="Erased signatory #", title="", email=""):
        if person.name == f"Erased signatory #{person.pk}":
            Individual.objects.filter(pk=person.pk).update(forgotten_at=person.updated_at)


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0005_name_keys_within_their_columns"),
    ]

    operations = [
        migrations.AddField(
            model_name="individual",
            name="forgotten_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(erased_before, migrations.RunPython.noop),
    ]
