"""The possible-duplicates page: which pairs it proposes, merging and dismissing from it."""

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz.distance import Levenshtein

from letters.models import Signature
from signatories import identity
from signatories.identity import individual_duplicates, organization_duplicates
from signatories.models import DismissedDuplicate, Individual, Organization
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db

URL = "/admin/signatories/organization/duplicates/"


def pair_names(pairs) -> set[frozenset[str]]:
    return {frozenset((pair.first.name, pair.second.name)) for pair in pairs}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Médecins Sans Frontières", "MEDECINS SANS FRONTIERES"),  # case and accents
        ("Front Line Defenders", "Front-Line Defenders."),  # punctuation
        ("Lawyers & Doctors for Peace", "Lawyers and Doctors for Peace"),  # "&" and "and"
        ("The Elders Foundation", "Elders Foundation"),  # a leading "The"
        ("Amnesty International", "Amnesty Internacional"),  # one letter apart
        ("International Federation for Human Rights", "Internationl Federaton for Human Rights"),  # two
    ],
)
def test_near_identical_organization_names_are_paired(a, b):
    make_organization(a)
    make_organization(b)
    assert pair_names(organization_duplicates()) == {frozenset((a, b))}


def test_equal_acronyms_and_acronym_names_are_paired():
    make_organization("Human Rights Watch", acronym="HRW")
    make_organization("Human Rights Watchers", acronym="hrw")
    make_organization("HRW")
    pairs = {frozenset((p.first.name, p.second.name)): p.reasons for p in organization_duplicates()}
    assert "the same acronym" in pairs[frozenset(("Human Rights Watch", "Human Rights Watchers"))]
    assert "one’s name is the other’s acronym" in pairs[frozenset(("Human Rights Watch", "HRW"))]


def test_different_organizations_are_not_paired():
    for name in ["ACAT UK", "ACAT US", "Amnesty International", "Human Rights Watch", "Oxfam"]:
        make_organization(name)
    # Close spellings in different countries are chapters, not duplicates.
    make_organization("Women for Justice", country="KE")
    make_organization("Women for Justica", country="UG")
    assert organization_duplicates() == []


def test_people_with_the_same_name_are_paired_for_review():
    make_individual("Tomás Ojea-Quintana", email="tomas@example.org")
    make_individual("Tomas Ojea Quintana")
    make_individual("Ana Pérez")
    assert pair_names(individual_duplicates()) == {frozenset(("Tomás Ojea-Quintana", "Tomas Ojea Quintana"))}


def test_records_whose_name_was_deleted_are_nobodys_duplicates(letter, settings, staff):
    # Two erased signers ("Erased signatory #1", "#2") were proposed as "names 1 letter apart",
    # a merge away from joining two people's signatures; retention's emptied records too.
    import datetime as dt

    from django.utils import timezone

    from letters import lifecycle
    from letters.lifecycle.retention import personal_data_purge
    from tests.factories import make_letter

    for name in ("Alpha Person", "Beta Human"):
        lifecycle.signature_erase(
            signature=signature_row(letter, make_individual(name, email=f"{name[0]}@x.org"))
        )
    settings.RETENTION_DAYS = 1
    old = make_letter(slug="old", closes_at=timezone.now() - dt.timedelta(days=2))
    for name in ("Gamma Signer", "Delta Signer"):
        signature_row(old, make_individual(name), status="pending")
    assert personal_data_purge().forgotten == 2
    make_individual("Jane Doe")
    make_individual("Jane Doe")

    assert pair_names(individual_duplicates()) == {frozenset({"Jane Doe"})}


def test_the_page_lists_pairs_and_merges_one(staff_client, letter):
    keep = make_organization("Amnesty International")
    other = make_organization("amnesty international.")
    signature_row(letter, other)

    html = staff_client.get(URL).content.decode()
    assert "Amnesty International" in html and "amnesty international." in html
    assert "the same name but for case" in html

    merge = f"/admin/signatories/organization/merge/?ids={keep.pk}%2C{other.pk}&amp;keep={keep.pk}"
    assert merge in html
    # The merge page says what will happen, and nothing happens before the confirmation.
    preview = staff_client.get(merge.replace("&amp;", "&")).content.decode()
    assert "Signature that stays" in preview and "Protect civic space" in preview
    assert Organization.objects.count() == 2

    response = staff_client.post(
        "/admin/signatories/organization/merge/", {"ids": f"{keep.pk},{other.pk}", "keep": keep.pk}
    )

    assert response.status_code == 302
    assert list(Organization.objects.all()) == [keep]
    assert Signature.objects.get().organization == keep
    assert "No possible duplicates" in staff_client.get(URL).content.decode()


def test_a_dismissed_pair_is_not_proposed_again(staff_client):
    first, second = make_organization("ACAT Germany"), make_organization("ACAT - Germany")
    assert len(organization_duplicates()) == 1

    staff_client.post(URL + "dismiss/", {"first": second.pk, "second": first.pk})

    assert organization_duplicates() == []
    assert DismissedDuplicate.objects.get().first_id == first.pk
    assert Organization.objects.count() == 2


def test_the_organization_list_links_to_the_duplicates_page(staff_client):
    assert URL in staff_client.get("/admin/signatories/organization/").content.decode()
    assert (
        "/admin/signatories/individual/duplicates/"
        in staff_client.get("/admin/signatories/individual/").content.decode()
    )


# -- Names a letter or two apart, without comparing every name with every other --

# Few letters, so that keys often land a letter or two apart.
keys_strategy = st.lists(st.text(alphabet="ab c", min_size=5, max_size=21), max_size=40)


def measured(keys: list[str]) -> dict[str, set[str]]:
    """Every pair measured: for each key, the others close to it."""
    close = {key: set() for key in keys}
    for a, b in itertools.combinations(set(keys), 2):
        limit = min(identity.max_distance(len(a)), identity.max_distance(len(b)))
        if limit and Levenshtein.distance(a, b) <= limit:
            close[a].add(b)
            close[b].add(a)
    return close


def found(keys: list[str]) -> dict[str, set[str]]:
    spellings = identity.CloseSpellings(keys)
    return {key: spellings.near(key) for key in keys}


@settings(max_examples=300, deadline=None)
@given(keys_strategy)
def test_close_spellings_are_found_as_if_every_pair_were_measured(keys):
    assert found(keys) == measured(keys)


@pytest.mark.parametrize("length", [8, 15, 16, 17, 30])
def test_every_edit_at_every_place_is_found(length):
    key = "abcdefghijklmnopqrstuvwxyz0123456789"[:length]
    edited = {key[:at] + key[at + 1 :] for at in range(length)}  # one letter deleted
    edited |= {key[:at] + "_" + key[at:] for at in range(length + 1)}  # one inserted
    edited |= {key[:at] + "_" + key[at + 1 :] for at in range(length)}  # one replaced
    if length >= 16:  # two edits, anywhere
        edited |= {e[:at] + "~" + e[at + 1 :] for e in list(edited) for at in range(len(e))}
    keys = [key, *sorted(edited - {key})]
    assert found(keys) == measured(keys)


def test_names_are_measured_against_their_neighbours_not_the_whole_table(monkeypatch):
    # 3,000 people: measuring every pair would take 4.5 million comparisons
    # (minutes of the duplicates page at 100,000). Each name is measured
    # against the few that share a piece of it.
    rng = random.Random(14)
    names = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(8, 30)))
        for _ in range(3000)
    ]
    misspelled = {name: name[:-1] + ("x" if name[-1] != "x" else "y") for name in names[:50]}
    names += misspelled.values()  # fifty pairs a letter apart
    people = [Individual(name=name) for name in names]
    for person in people:
        person.refresh_derived_fields()
    Individual.objects.bulk_create(people)
    measured = []
    extract = identity.process.extract

    def counting(query, choices, **kwargs):
        choices = list(choices)
        measured.extend(choices)
        return extract(query, choices, **kwargs)

    monkeypatch.setattr(identity.process, "extract", counting)
    pairs = individual_duplicates(limit=1000)
    assert {frozenset(pair) for pair in misspelled.items()} <= pair_names(pairs)
    assert len(measured) < 20 * len(names)


def test_the_newest_pairs_come_first_and_the_page_stops_at_its_limit():
    made = [
        (
            make_organization(f"Friends of the Earth {city}"),
            make_organization(f"Friends of the Earth {city}s"),
        )
        for city in ("Basel", "Geneva", "Zurich")
    ]
    newest_first = [frozenset((a.name, b.name)) for a, b in reversed(made)]
    assert [frozenset((p.first.name, p.second.name)) for p in organization_duplicates()] == newest_first
    assert [
        frozenset((p.first.name, p.second.name)) for p in organization_duplicates(limit=2)
    ] == newest_first[:2]
    # A record paired with older ones: with the newest of them first.
    latest = make_organization("Friends of the Earth Zurichs")  # the same name as the last one
    assert [p.first.pk for p in organization_duplicates(limit=2)] == [made[2][1].pk, made[2][0].pk]
    assert {p.second.pk for p in organization_duplicates(limit=2)} == {latest.pk}


def test_an_organization_named_by_its_acronym_is_not_its_own_duplicate():
    # Its name and its acronym file it twice under the same key: it was once paired with itself.
    make_organization("WWF", acronym="WWF", country="CH")
    assert organization_duplicates() == []


def test_records_erased_before_the_field_existed_are_marked_by_the_migration():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("signatories.migrations.0006_individual_forgotten_at")
    erased = make_individual("x")
    Individual.objects.filter(pk=erased.pk).update(name=f"Erased signatory #{erased.pk}", title="")
    namesake = make_individual("Erased signatory #999999")  # someone's own (odd) name stays theirs
    migration.erased_before(apps, None)

    assert Individual.objects.get(pk=erased.pk).forgotten_at is not None
    assert Individual.objects.get(pk=namesake.pk).forgotten_at is None
