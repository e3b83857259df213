from django.conf import settings
from django.core.management.base import BaseCommand

from letters.lifecycle.retention import personal_data_purge


class Command(BaseCommand):
    help = (
        "Delete the e-mails, IP hashes, signers' names, notes and contact consents of signatures on "
        "letters closed more than RETENTION_DAYS ago, and the names of their signers that no list ever "
        "printed. Rosters and deliveries are unchanged. Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be deleted; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        outcome = personal_data_purge(dry_run=dry_run)
        verb = "Would purge" if dry_run else "Purged"
        letters = ", ".join(letter.slug for letter in outcome.letters) or "none"
        self.stdout.write(
            f"{verb} {outcome.signatures} signatures, {outcome.individuals} individuals and "
            f"{outcome.organizations} organizations, and the names of {outcome.forgotten} people no list "
            f"ever printed; letters past {settings.RETENTION_DAYS} days of retention: {letters}."
        )
