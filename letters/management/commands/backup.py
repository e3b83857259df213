import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone


class Command(BaseCommand):
    help = (
        "Write a consistent copy of the database to a timestamped file while the site keeps running: "
        "SQLite's online backup API, or pg_dump (custom format) on PostgreSQL."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            default=None,
            help="Where to write the backup (default: VAR_DIR/backups).",
        )

    def handle(self, *args, output_dir: str | None = None, **options):
        folder = Path(output_dir) if output_dir else Path(settings.VAR_DIR) / "backups"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        if connection.vendor == "sqlite":
            target = folder / f"undersigned-{stamp}.sqlite3"
            self.backup_sqlite(target)
        elif connection.vendor == "postgresql":
            target = folder / f"undersigned-{stamp}.dump"
            self.backup_postgresql(target)
        else:
            raise CommandError(f"No backup method for the {connection.vendor} database.")
        self.stdout.write(f"{target} ({target.stat().st_size:,} bytes)")

    def backup_sqlite(self, target: Path) -> None:
        connection.ensure_connection()
        partial = target.with_suffix(".partial")
        destination = sqlite3.connect(partial)
        try:
            # Copies page by page while other connections keep reading and writing;
            # the result is a consistent snapshot.
            connection.connection.backup(destination)
        finally:
            destination.close()
        partial.rename(target)

    def backup_postgresql(self, target: Path) -> None:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise CommandError(
                "pg_dump was not found: install PostgreSQL's client programs (postgresql-client)."
            )
        params = connection.get_connection_params()
        env = os.environ.copy()
        if params.get("password"):
            env["PGPASSWORD"] = str(params["password"])
        command = [pg_dump, "--format=custom", "--no-owner", f"--file={target}"]
        for flag, key in [("--host", "host"), ("--port", "port"), ("--username", "user")]:
            if params.get(key):
                command.append(f"{flag}={params[key]}")
        command.append(str(params.get("dbname") or settings.DATABASES["default"]["NAME"]))
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            target.unlink(missing_ok=True)
            raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
