"""
The admin history written before the purge and the erasure cleaned it
(letters.lifecycle.retention.history_scrub): a withdrawal reason that a purge or an
erasure has since deleted from its signature, and the address or contact that a
merge wrote into the entry of a merged-away record. What staff did stays.
"""

import re

from django.db import migrations

ERASED = "[erased]"
WITHDRAWN = "Marked withdrawn: "
# A merge wrote "Held #12 name: …; title: …; email: …": the private ones go.
MERGE_PRIVATE = re.compile(r"; (?:email|contact_name|contact_email): [^;]*")


def scrub(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    Signature = apps.get_model("letters", "Signature")
    withdrawn = LogEntry.objects.filter(
        content_type__app_label="letters",
        content_type__model="signature",
        change_message__startswith=WITHDRAWN,
    ).exclude(change_message=WITHDRAWN + ERASED)
    emptied = {
        str(pk)
        for pk in Signature.objects.filter(withdrawal_reason="", withdrawn_at__isnull=False).values_list(
            "pk", flat=True
        )
    }
    for entry in withdrawn:
        if entry.object_id in emptied:  # the reason is gone from the signature, so from its history
            entry.change_message = WITHDRAWN + ERASED
            entry.save(update_fields=["change_message"])
    merged = LogEntry.objects.filter(
        content_type__app_label="signatories", change_message__startswith="Merged into #"
    )
    for entry in merged:
        message = MERGE_PRIVATE.sub("", entry.change_message)
        if message != entry.change_message:
            entry.change_message = message
            entry.save(update_fields=["change_message"])


class Migration(migrations.Migration):
    dependencies = [
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("letters", "0011_signature_mailbox_and_network_indexes"),
    ]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
