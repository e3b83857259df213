"""Where the derived sort name may be wrong, staff are told why (the queue, the import preview)."""

import pytest

from signatories.normalize import derive_sort_name, sort_name_doubtful


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("Lee Yanghee", "Lee"),
        ("Shin Hee-seok", "Shin"),
        ("Kim Jong-un", "Kim"),
        ("Nguyễn Thị Bình", "Nguyễn"),
        ("Tanaka Hiroshi", "Tanaka"),
        ("Zhang Wei", "Zhang"),
    ],
)
def test_a_first_word_that_is_an_east_asian_family_name_is_doubtful(name, word):
    assert f"“{word}” is a common East Asian family name" in sort_name_doubtful(name)


@pytest.mark.parametrize(
    ("name", "particle"),
    [
        ("Ludwig van Beethoven", "van"),
        ("Anwar bin Ibrahim", "bin"),
        ("Charles de Gaulle", "de"),
        ("Ursula von der Leyen", "von"),
        ("Nur binti Ahmad", "binti"),
        ("Omar al-Bashir Hassan", "al-Bashir"),
    ],
)
def test_a_particle_before_the_last_word_is_doubtful(name, particle):
    assert f"“{particle}” may begin the family name" in sort_name_doubtful(name)


def test_three_words_may_be_two_surnames():
    assert "“Ojea Quintana”" in sort_name_doubtful("Tomás Ojea Quintana")


@pytest.mark.parametrize(
    "name", ["Åsa Lindqvist", "Tomás Ojea-Quintana", "Jane Doe", "Madonna", "Jane Doe Jr."]
)
def test_an_ordinary_name_is_not_doubtful(name):
    assert sort_name_doubtful(name) is None


def test_a_family_name_given_by_its_owner_is_never_doubted():
    assert sort_name_doubtful("Lee Yanghee", "Lee") is None
    assert derive_sort_name("Lee Yanghee", "Lee") == "Lee, Yanghee"
