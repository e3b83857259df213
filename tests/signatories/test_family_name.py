"""The family name a person gives sets where they sort; without one, the last word does."""

import pytest

from signatories.models import Individual
from signatories.normalize import derive_sort_name
from tests.factories import make_individual


@pytest.mark.parametrize(
    ("name", "family_name", "expected"),
    [
        ("Lee Yanghee", "Lee", "Lee, Yanghee"),
        ("Shin Hee-seok", "Shin", "Shin, Hee-seok"),
        ("Tomás Ojea Quintana", "Ojea Quintana", "Ojea Quintana, Tomás"),
        ("Tomás Ojea Quintana", "ojea quintana", "ojea quintana, Tomás"),
        ("Aung San Suu Kyi", "Aung San Suu Kyi", "Aung San Suu Kyi"),
        ("Madonna", "Ciccone", "Ciccone, Madonna"),  # not in the name: put first all the same
        ("Tomás Ojea-Quintana", "", "Ojea-Quintana, Tomás"),  # none given: the last word, as before
        ("Tomás Ojea-Quintana", "  ", "Ojea-Quintana, Tomás"),
    ],
)
def test_the_sort_name_starts_with_the_family_name(name, family_name, expected):
    assert derive_sort_name(name, family_name=family_name) == expected


@pytest.mark.django_db
def test_lee_yanghee_sorts_under_l_and_ojea_quintana_under_o():
    people = [
        make_individual("Lee Yanghee", family_name="Lee"),
        make_individual("Tomás Ojea Quintana", family_name="Ojea Quintana"),
        make_individual("Anna Moreau"),
        make_individual("Mia Nguyen"),
        make_individual("Paul Quintero"),
        make_individual("Yanghee Zed"),
    ]
    ordered = Individual.objects.filter(pk__in=[p.pk for p in people]).order_by("collation_key")
    assert [p.name for p in ordered] == [
        "Lee Yanghee",
        "Anna Moreau",
        "Mia Nguyen",
        "Tomás Ojea Quintana",
        "Paul Quintero",
        "Yanghee Zed",
    ]


@pytest.mark.django_db
def test_a_sort_name_set_by_staff_still_wins():
    person = make_individual("Lee Yanghee", family_name="Yanghee", sort_name="Lee Yanghee")
    assert person.effective_sort_name == "Lee Yanghee"
