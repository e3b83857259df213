"""
Import benchmark: how long a spreadsheet of --rows signatures takes to import,
beside a bulk insert of the same rows measured in the same run.

    .venv/bin/python bench/import_load.py                       # SQLite, in a fresh temporary database
    bin/with-postgres .venv/bin/python bench/import_load.py     # the same on PostgreSQL
    make bench                                                  # both, with the other benchmarks

Prints one line per measurement: the command (`manage.py import_signatures`,
identity matching and all), the admin's preview and its confirmation (each
must end within gunicorn's 30 s `GUNICORN_TIMEOUT`), and the baseline, a
`bulk_create` of the same individuals and signatures with nothing checked; then
the ratio of the command to the baseline (the target: at most 10).
"""

import argparse
import atexit
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("STAFF_REQUIRE_2FA", "0")
if not os.environ.get("DATABASE_URL"):
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="undersigned-bench-")
    atexit.register(shutil.rmtree, os.environ["VAR_DIR"], ignore_errors=True)

import django  # noqa: E402

django.setup()

from django.test.utils import setup_test_environment  # noqa: E402

setup_test_environment()  # responses carry their template context: the preview's confirmation form

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from letters.models import Letter, Signature  # noqa: E402
from signatories.models import Individual  # noqa: E402

COMMAND_CEILING = 10  # the command may take this many times the bulk insert of the same rows
TIMEOUT = 30  # gunicorn's (GUNICORN_TIMEOUT): the admin's preview and confirmation must each end within it

HEADER = "type,name,title,acronym,country,signed_on,email,sort_name,website\n"


def csv_of(rows: int, prefix: str) -> bytes:
    lines = (
        f"individual,{prefix} Person {n},Member {n},,FR,2023-09-01,{prefix.lower()}{n}@example.org,,\n"
        for n in range(rows)
    )
    return (HEADER + "".join(lines)).encode()


def new_letter(slug: str) -> Letter:
    return Letter.objects.create(
        slug=slug,
        title=slug,
        subject="Re",
        salutation="Dear Minister,",
        body="We write.",
        status=Letter.Status.OPEN,
        timezone="Europe/Paris",
    )


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def bulk_insert(rows: int, prefix: str) -> None:
    """The floor: the same individuals and signatures written with two bulk inserts, nothing checked."""
    letter = new_letter(f"bulk-{prefix.lower()}")
    now = timezone.now()
    with transaction.atomic():
        people = [
            Individual(name=f"{prefix} Person {n}", title=f"Member {n}", country="FR", email=f"b{n}@x.org")
            for n in range(rows)
        ]
        for person in people:
            person.refresh_derived_fields()
        Individual.objects.bulk_create(people)
        Signature.objects.bulk_create(
            Signature(
                letter=letter,
                individual=person,
                status=Signature.Status.APPROVED,
                source=Signature.Source.IMPORT,
                signed_at=now,
                submitted_at=now,
                approved_at=now,
                public_consent=True,
            )
            for person in people
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    settings.IMPORT_MAX_ROWS = max(settings.IMPORT_MAX_ROWS, args.rows)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]

    baseline = timed(lambda: bulk_insert(args.rows, "B"))

    path = Path(tempfile.mkdtemp(prefix="undersigned-import-")) / "signatures.csv"
    atexit.register(shutil.rmtree, path.parent, ignore_errors=True)
    path.write_bytes(csv_of(args.rows, "C"))
    new_letter("command")
    command = timed(lambda: call_command("import_signatures", "command", str(path), stdout=io.StringIO()))

    letter = new_letter("admin")
    staff = User.objects.create_superuser("bench", "bench@example.org", "bench")
    client = Client()
    client.force_login(staff)
    upload = SimpleUploadedFile("signatures.csv", csv_of(args.rows, "A"))
    form = {"letter": letter.pk, "resource": "0", "format": "0", "import_file": upload}
    responses = {}
    preview = timed(lambda: responses.update(preview=client.post("/admin/letters/signature/import/", form)))
    assert responses["preview"].status_code == 200, responses["preview"].status_code
    confirm_form = responses["preview"].context["confirm_form"]
    fields = {name: confirm_form.initial[name] for name in confirm_form.fields}
    confirm = timed(
        lambda: responses.update(done=client.post("/admin/letters/signature/process_import/", fields))
    )
    assert responses["done"].status_code == 302, responses["done"].status_code
    assert Signature.objects.filter(letter=letter).count() == args.rows

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    ratio = command / baseline
    print(f"{engine}, {args.rows:,} rows")
    print(f"  bulk insert (baseline)   {baseline:6.1f} s")
    print(
        f"  import_signatures        {command:6.1f} s   {ratio:4.1f}x the baseline"
        f" (target ≤ {COMMAND_CEILING}x: {verdict(ratio <= COMMAND_CEILING)})"
    )
    for what, seconds in [("admin preview", preview), ("admin confirmation", confirm)]:
        print(
            f"  {what:<24} {seconds:6.1f} s   {seconds / baseline:4.1f}x the baseline"
            f" (gunicorn's timeout: {TIMEOUT} s: {verdict(seconds < TIMEOUT)})"
        )


if __name__ == "__main__":
    main()
