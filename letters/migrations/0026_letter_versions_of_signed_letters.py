"""
Version 1 for every letter that has signatures: its text as it stands, dated
from its first signature, and every signature of it under that version. (What
earlier signers were shown was never recorded; the text as it stands is the
best the records tell.)
"""

from django.db import migrations
from django.db.models import Min

TEXT_FIELDS = ("title", "subject", "salutation", "body", "closing")


def first_versions(apps, schema_editor):
    Letter = apps.get_model("letters", "Letter")
    LetterVersion = apps.get_model("letters", "LetterVersion")
    Signature = apps.get_model("letters", "Signature")
    signed = Letter.objects.filter(signatures__isnull=False, text_version=0).distinct()
    for letter in signed.iterator():
        since = Signature.objects.filter(letter=letter).aggregate(first=Min("submitted_at"))["first"]
        version = LetterVersion.objects.create(
            letter=letter,
            number=1,
            material=True,
            created_at=since,
            **{field: getattr(letter, field) for field in TEXT_FIELDS},
        )
        Letter.objects.filter(pk=letter.pk).update(
            text_version=1, material_version=1, text_version_at=version.created_at
        )
        Signature.objects.filter(letter=letter, text_version__isnull=True).update(text_version=1)


class Migration(migrations.Migration):
    dependencies = [("letters", "0025_letter_text_versions")]

    operations = [migrations.RunPython(first_versions, migrations.RunPython.noop)]
