"""
How a person's name looks (`signatories.normalize.name_skeleton`), for the
namesake hold: derived on save, and here for every record already stored, so
that a look-alike of an imported name waits for staff from the first day.
"""

from django.db import migrations, models

from signatories.normalize import name_skeleton


def derive(apps, schema_editor):
    individual = apps.get_model("signatories", "Individual")
    longest = individual._meta.get_field("name_skeleton").max_length
    batch = []
    for person in individual.objects.only("pk", "name").iterator(chunk_size=2000):
        person.name_skeleton = name_skeleton(person.name)[:longest]
        batch.append(person)
        if len(batch) == 2000:
            individual.objects.bulk_update(batch, ["name_skeleton"])
            batch = []
    individual.objects.bulk_update(batch, ["name_skeleton"])


class Migration(migrations.Migration):
    dependencies = [("signatories", "0006_individual_forgotten_at")]

    operations = [
        migrations.AddField(
            model_name="individual",
            name="name_skeleton",
            field=models.CharField(db_index=True, default="", editable=False, max_length=200),
        ),
        migrations.RunPython(derive, migrations.RunPython.noop),
    ]
