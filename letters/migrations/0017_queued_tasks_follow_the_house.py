"""
The house by capability moved the task functions (letters/tasks.py to
letters/signing/tasks.py, letters/exports.py to letters/outputs/pdf.py).
A worker finds a queued task by its dotted path: rows queued before the
deploy would no longer load, and their e-mails would be lost. They follow.
"""

from django.db import migrations

MOVED = {
    "letters.tasks.send_signature_email": "letters.signing.tasks.send_signature_email",
    "letters.tasks.send_links_email": "letters.signing.tasks.send_links_email",
    "letters.exports.render_pdf_later": "letters.outputs.pdf.render_pdf_later",
    "letters.digest.send_digest": "letters.admin.digest.send_digest",
}


def follow(apps, schema_editor, moves=MOVED):
    task_results = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in moves.items():
        task_results.objects.filter(task_path=old).update(task_path=new)


def back(apps, schema_editor):
    follow(apps, schema_editor, {new: old for old, new in MOVED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("letters", "0016_letter_timezone_default"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(follow, back)]
