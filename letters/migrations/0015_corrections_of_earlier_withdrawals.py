"""
The corrections still waiting on signatures withdrawn before a withdrawal ended
them (0014): they end now, at their signature's withdrawal, as
`lifecycle._corrections_end` ends them since. Their links and staff could no
longer apply them, yet the signer's page, the correction's link and the queue
went on showing them as waiting.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def end_corrections(apps, schema_editor):
    Correction = apps.get_model("letters", "Correction")
    Signature = apps.get_model("letters", "Signature")
    withdrawn_at = Signature.objects.filter(pk=OuterRef("signature_id")).values("withdrawn_at")[:1]
    Correction.objects.filter(
        status__in=["pending", "confirmed"], signature__withdrawn_at__isnull=False
    ).update(status="withdrawn", decided_at=Subquery(withdrawn_at))


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0014_correction_withdrawn"),
    ]

    operations = [
        migrations.RunPython(end_corrections, migrations.RunPython.noop),
    ]
