from django.core.management.base import BaseCommand

from letters.admin.digest import enqueue_digests


class Command(BaseCommand):
    help = (
        "Queue the daily digest for every organizer who asked for it: one e-mail per open letter with new "
        "signatures, those awaiting approval and their warnings. Run it daily from cron; the worker sends."
    )

    def handle(self, *args, **options):
        queued = enqueue_digests()
        self.stdout.write(f"Queued the digest for {queued} organizer{'s' if queued != 1 else ''}.")
