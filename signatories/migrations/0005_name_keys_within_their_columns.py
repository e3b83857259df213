"""
Identity keys longer than their column, which SQLite accepted (PostgreSQL refused
them): cut to the length refresh_derived_fields now keeps.
"""

from django.db import migrations
from django.db.models.functions import Length, Substr


def cut(apps, schema_editor):
    for name in ("Individual", "Organization"):
        model = apps.get_model("signatories", name)
        longest = model._meta.get_field("name_key").max_length
        model.objects.annotate(key_length=Length("name_key")).filter(key_length__gt=longest).update(
            name_key=Substr("name_key", 1, longest)
        )


class Migration(migrations.Migration):
    dependencies = [("signatories", "0004_canonical_email_length")]

    operations = [migrations.RunPython(cut, migrations.RunPython.noop)]
