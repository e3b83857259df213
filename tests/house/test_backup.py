import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from letters.models import Letter, Signature
from letters.rosters import Roster
from tests.factories import make_individual, make_letter, make_organization, signature_row

ROOT = Path(__file__).resolve().parents[2]
READ_ROSTERS = """
from letters.models import Letter
from letters.rosters import Roster
import datetime as dt
for letter in Letter.objects.order_by("slug"):
    for day in ("2023-09-20", "2023-09-21"):
        names = [e.display_name for e in Roster(letter, dt.date.fromisoformat(day)).entries()]
        print(letter.slug, day, "|".join(names))
"""


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's online backup")
@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_fresh_database_has_the_same_letters_and_rosters(tmp_path, capsys):
    letter = make_letter(slug="kept-letter", timezone="Europe/Zurich")
    on_20th = dt.datetime(2023, 9, 20, 10, tzinfo=dt.UTC)
    signature_row(letter, make_individual("Åsa Lindqvist", title="MEP"), signed_at=on_20th)
    signature_row(
        letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"), signed_at=on_20th
    )
    signature_row(
        letter,
        make_individual("Left Later"),
        signed_at=on_20th,
        withdrawn_at=dt.datetime(2023, 9, 21, 12, tzinfo=dt.UTC),
    )
    signature_row(letter, make_individual("Never Confirmed"), status=Signature.Status.PENDING)
    make_letter(slug="other-letter")

    call_command("backup", output_dir=str(tmp_path / "backups"))
    (backup,) = (tmp_path / "backups").glob("undersigned-*.sqlite3")
    assert str(backup) in capsys.readouterr().out

    # Restore as the README says: the backup file becomes the database of a fresh VAR_DIR.
    restored = tmp_path / "restored"
    restored.mkdir()
    shutil.copy(backup, restored / "db.sqlite3")
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", READ_ROSTERS],
        cwd=ROOT,
        env=env | {"VAR_DIR": str(restored)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr

    expected = []
    for slug in ("kept-letter", "other-letter"):
        for day in ("2023-09-20", "2023-09-21"):
            names = [
                e.display_name
                for e in Roster(Letter.objects.get(slug=slug), dt.date.fromisoformat(day)).entries()
            ]
            expected.append(f"{slug} {day} {'|'.join(names)}")
    assert result.stdout.splitlines() == expected
    assert "Left Later" in expected[0] and "Left Later" not in expected[1]


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_dump")
@pytest.mark.django_db(transaction=True)
def test_a_pg_dump_restored_into_a_fresh_database_has_the_same_rosters(tmp_path):
    letter = make_letter(slug="kept-letter", timezone="Europe/Zurich")
    on_20th = dt.datetime(2023, 9, 20, 10, tzinfo=dt.UTC)
    signature_row(letter, make_individual("Åsa Lindqvist", title="MEP"), signed_at=on_20th)
    signature_row(
        letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"), signed_at=on_20th
    )
    make_letter(slug="other-letter")

    call_command("backup", output_dir=str(tmp_path))
    (dump,) = tmp_path.glob("undersigned-*.dump")

    params = connection.get_connection_params()
    host = ["--host", params["host"]] if params.get("host") else []
    user = ["--username", params["user"]] if params.get("user") else []
    fresh = f"restored_{os.getpid()}"
    subprocess.run(["createdb", *host, *user, fresh], check=True)
    try:
        subprocess.run(["pg_restore", *host, *user, "--no-owner", "--dbname", fresh, str(dump)], check=True)
        env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + fresh
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-v", "0", "-c", READ_ROSTERS],
            cwd=ROOT,
            env=env | {"DATABASE_URL": url},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        subprocess.run(["dropdb", *host, *user, "--if-exists", fresh], check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "kept-letter 2023-09-20 Åsa Lindqvist|Asociación Pro Derechos Humanos (APDH)",
        "kept-letter 2023-09-21 Åsa Lindqvist|Asociación Pro Derechos Humanos (APDH)",
        "other-letter 2023-09-20 ",
        "other-letter 2023-09-21 ",
    ]
