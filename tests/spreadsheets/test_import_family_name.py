"""The import reads a family_name column (and its variants) as the public form's field."""

import io

import pytest
from django.core.management import CommandError, call_command

from letters.rosters import Roster
from signatories.models import Individual
from tests.factories import make_individual

pytestmark = pytest.mark.django_db


def run_import(letter, tmp_path, text: str) -> str:
    path = tmp_path / "signatures.csv"
    path.write_text(text, encoding="utf-8-sig")
    out = io.StringIO()
    call_command("import_signatures", letter.slug, str(path), stdout=out)
    return out.getvalue()


def test_a_family_name_column_sets_the_order(tmp_path, letter):
    run_import(
        letter,
        tmp_path,
        "type,name,family_name,signed_on\n"
        "individual,Lee Yanghee,Lee,2023-09-03\n"
        "individual,Tomás Ojea Quintana,Ojea Quintana,2023-09-03\n"
        "individual,Anna Moreau,,2023-09-03\n"
        "individual,Paul Quintero,,2023-09-03\n",
    )
    assert Individual.objects.get(name="Lee Yanghee").family_name == "Lee"
    assert [entry.name for entry in Roster(letter).entries()] == [
        "Lee Yanghee",
        "Anna Moreau",
        "Tomás Ojea Quintana",
        "Paul Quintero",
    ]


def test_a_surname_header_is_the_family_name_and_a_sort_name_column_still_wins(tmp_path, letter):
    run_import(
        letter,
        tmp_path,
        "type,name,Surname,sort_name,signed_on\n"
        "individual,Shin Hee-seok,Shin,,2023-09-03\n"
        "individual,Lee Yanghee,Yanghee,Lee Yanghee,2023-09-03\n",
    )
    shin = Individual.objects.get(name="Shin Hee-seok")
    assert (shin.family_name, shin.effective_sort_name) == ("Shin", "Shin, Hee-seok")
    assert Individual.objects.get(name="Lee Yanghee").effective_sort_name == "Lee Yanghee"


def test_a_known_person_without_a_family_name_gets_the_files(tmp_path, letter):
    make_individual("Lee Yanghee", email="lee@example.org")
    run_import(
        letter,
        tmp_path,
        "type,name,email,family_name,signed_on\nindividual,Lee Yanghee,lee@example.org,Lee,2023-09-03\n",
    )
    assert Individual.objects.get(name="Lee Yanghee").family_name == "Lee"


def test_an_overlong_family_name_is_an_error_with_its_line(tmp_path, letter):
    path = tmp_path / "signatures.csv"
    path.write_text(f"type,name,family_name,signed_on\nindividual,Lee Yanghee,{'L' * 201},2023-09-03\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_signatures", letter.slug, str(path), stderr=err)
    assert "family name is longer than 200" in err.getvalue()
    assert not Individual.objects.exists()
