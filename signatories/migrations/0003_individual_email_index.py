from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("signatories", "0002_dismissed_duplicate"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="individual",
            index=models.Index(fields=["canonical_email"], name="individual_email_idx"),
        ),
    ]
