import datetime as dt

import pytest

from letters.rosters import Roster
from signatories.normalize import derive_sort_name
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db


def organization_order(letter, names: list[str]) -> list[str]:
    for name in reversed(names):  # stored in the wrong order on purpose
        signature_row(letter, make_organization(name))
    return [entry.name for entry in Roster(letter, dt.date(2023, 9, 21)).entries()]


def individual_order(letter, people: list[tuple[str, str]]) -> list[str]:
    for name, sort_name in reversed(people):
        signature_row(letter, make_individual(name, sort_name=sort_name))
    return [entry.name for entry in Roster(letter, dt.date(2023, 9, 21)).entries()]


def test_accents_and_case_never_split_the_list(letter):
    expected = ["asa", "Åsa", "Asociación", "Association", "Azur"]
    assert organization_order(letter, expected) == expected


def test_an_all_caps_name_sorts_among_the_others(letter):
    expected = ["Taiwan Association for Human Rights", "THINK Centre", "Tibet Action"]
    assert organization_order(letter, expected) == expected


def test_punctuation_keeps_related_names_together(letter):
    expected = ["ACAT - Belgique", "ACAT - France", "ACAT Germany", "ACAT UK", "Action Aid"]
    assert organization_order(letter, expected) == expected


def test_organization_sort_name_override(letter):
    signature_row(letter, make_organization("The Elders", sort_name="Elders, The"))
    signature_row(letter, make_organization("Freedom House"))
    signature_row(letter, make_organization("Amnesty International"))
    names = [entry.name for entry in Roster(letter, dt.date(2023, 9, 21)).entries()]
    assert names == ["Amnesty International", "The Elders", "Freedom House"]


def test_individuals_sort_by_family_name(letter):
    people = [
        ("Samuel Abebe", ""),
        ("Zoë Ferreira-Mbeki", ""),
        ("Lee Yanghee", "Lee Yanghee"),  # family name first, so the sort name is set
        ("Tomás Ojea-Quintana", ""),
        ("Yuki Tanaka", "Tanaka Yuki"),
    ]
    assert individual_order(letter, people) == [name for name, _ in people]


def test_sort_name_is_derived_from_the_last_word():
    assert derive_sort_name("Tomás Ojea-Quintana") == "Ojea-Quintana, Tomás"
    assert derive_sort_name("  María   José Núñez ") == "Núñez, María José"
    assert derive_sort_name("Martin Luther King Jr.") == "King, Martin Luther Jr."
    assert derive_sort_name("Madonna") == "Madonna"


def test_individual_without_override_stores_a_derived_sort_key(db):
    person = make_individual("Tomás Ojea-Quintana")
    assert person.sort_name == ""
    assert person.effective_sort_name == "Ojea-Quintana, Tomás"


def test_renaming_an_organization_moves_it_in_the_list(letter):
    signature_row(letter, make_organization("Beta"))
    org = make_organization("Alpha")
    signature_row(letter, org)
    org.name = "Zeta"
    org.save()
    assert [entry.name for entry in Roster(letter, dt.date(2023, 9, 21)).entries()] == ["Beta", "Zeta"]
