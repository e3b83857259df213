"""The possible-duplicates page: which pairs it proposes, merging and dismissing from it."""

import pytest

from letters.models import Signature
from signatories.identity import individual_duplicates, organization_duplicates
from signatories.models import DismissedDuplicate, Organization

from .factories import make_individual, make_organization, sign

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


def test_the_page_lists_pairs_and_merges_one(staff_client, letter):
    keep = make_organization("Amnesty International")
    other = make_organization("amnesty international.")
    sign(letter, other)

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
