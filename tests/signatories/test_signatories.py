import pytest
from django.db import IntegrityError

from signatories.normalize import canonical_email, clean_text, has_control_characters, mailbox_key, name_key
from tests.factories import make_individual


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("J.Doe+letters@Gmail.com", "jdoe@gmail.com"),
        ("j.doe@googlemail.com", "jdoe@gmail.com"),
        ("Jane.Doe+x@outlook.com", "jane.doe@outlook.com"),
        ("Jane.Doe+x@example.org", "jane.doe+x@example.org"),
        ("ÉLISE@Example.FR", "élise@example.fr"),
    ],
)
def test_canonical_email(email, expected):
    assert canonical_email(email) == expected


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("victim+1@example.org", "victim@example.org"),
        ('"victim"@example.org', "victim@example.org"),
        ('"Vic\\tim+2"@Example.org.', "victim@example.org"),
        ("VICTIM@EXAMPLE.ORG", "victim@example.org"),
        ("ｖｉｃｔｉｍ@example.org", "victim@example.org"),
        ("J.Doe+letters@Gmail.com", "jdoe@gmail.com"),
        ("+tag@example.org", "+tag@example.org"),
        ("no-at-sign", "no-at-sign"),
    ],
)
def test_mailbox_key_folds_tags_quotes_and_case_for_every_domain(email, expected):
    assert mailbox_key(email) == expected
    assert canonical_email("victim+1@example.org") == "victim+1@example.org"  # identity's key stays finer


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Centre for Law & Democracy", "centre for law and democracy"),
        ("Asociación Pro-Derechos Humanos", "Asociacion pro derechos humanos"),
        ("ACAT - France", "acat france"),
        ("Women's  Legal Aid", "Womens Legal Aid"[:5] + "'s Legal Aid"),
    ],
)
def test_name_key_ignores_case_accents_punctuation_and_ampersand(a, b):
    assert name_key(a) == name_key(b)


def test_clean_text_normalizes_to_nfc_and_trims():
    assert clean_text("  Jose\u0301   Mart\u00ed  ") == "José Martí"


def test_control_characters_are_detected():
    assert has_control_characters("Bad\x00name")
    assert has_control_characters("evil\u202etxt.exe")
    assert not has_control_characters("Ngozi Eze-Ọ̀kọ̀")


def test_one_individual_per_mailbox(db):
    make_individual("Jane Doe", email="jane.doe@gmail.com")
    with pytest.raises(IntegrityError):
        make_individual("J. Doe", email="JaneDoe+petition@gmail.com")


def test_individuals_without_email_do_not_collide(db):
    make_individual("Imported One")
    make_individual("Imported Two")
