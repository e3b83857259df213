"""Who reaches the staff panel, and what the Moderator group may do there."""

import pytest
from django.contrib.auth.models import Group

from letters.models import Letter, Signature
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/admin/", "/admin/letters/signature/", "/admin/letters/letter/"])
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_signed_in_user_who_is_not_staff_is_sent_to_the_login_page(client, django_user_model, letter):
    client.force_login(django_user_model.objects.create_user("signer", "s@example.org", "pw"))
    response = client.get("/admin/letters/signature/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_the_moderator_group_exists_with_review_permissions_only():
    codenames = set(Group.objects.get(name="Moderator").permissions.values_list("codename", flat=True))
    assert {"view_signature", "change_signature", "view_letter"} <= codenames
    assert not {name for name in codenames if name.startswith(("delete_", "add_"))}
    assert "change_letter" not in codenames


def test_a_moderator_reviews_and_approves_signatures(moderator_client, moderator, letter):
    signature = signature_row(letter, make_organization("Org"), status=Signature.Status.CONFIRMED)

    assert moderator_client.get("/admin/letters/signature/").status_code == 200
    response = moderator_client.post(
        "/admin/letters/signature/", {"action": "approve", "_selected_action": [signature.pk]}
    )

    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED and signature.approved_by == moderator


def test_a_moderator_cannot_edit_a_letter(moderator_client, letter):
    page = moderator_client.get(f"/admin/letters/letter/{letter.pk}/change/")
    assert page.status_code == 200  # they may read it
    assert 'name="title"' not in page.content.decode()

    response = moderator_client.post(
        f"/admin/letters/letter/{letter.pk}/change/", {"title": "Hijacked", "slug": letter.slug}
    )

    assert response.status_code == 403
    assert Letter.objects.get(pk=letter.pk).title == "Protect civic space"
    assert moderator_client.get("/admin/letters/letter/add/").status_code == 403


def test_a_moderator_deletes_nothing_and_merges_nothing(moderator_client, letter):
    signature = signature_row(letter, make_individual())
    first, second = make_organization("Amnesty"), make_organization("amnesty")

    assert moderator_client.get(f"/admin/letters/signature/{signature.pk}/delete/").status_code == 403
    assert moderator_client.get(f"/admin/signatories/organization/{first.pk}/delete/").status_code == 403
    moderator_client.post(
        "/admin/signatories/organization/",
        {
            "action": "merge_selected",
            "_selected_action": [first.pk, second.pk],
            "apply": "1",
            "keep": first.pk,
        },
    )
    merge = "/admin/signatories/organization/merge/"
    ids = f"{first.pk},{second.pk}"
    assert moderator_client.get(f"{merge}?ids={ids}&keep={first.pk}").status_code == 403
    assert moderator_client.post(merge, {"ids": ids, "keep": first.pk}).status_code == 403
    assert Signature.objects.filter(pk=signature.pk).exists()
    assert {first.pk, second.pk} <= set(first.__class__.objects.values_list("pk", flat=True))


def test_a_moderator_cannot_import(moderator_client):
    assert moderator_client.get("/admin/letters/signature/import/").status_code == 403


def test_a_moderator_sees_signers_addresses_as_their_domain_only_and_cannot_change_them(
    moderator_client, staff, letter
):
    # A Moderator paged through every signer's full address, and could retarget a signature's address.
    person = make_individual("Jane Doe", email="jane.doe@example.org")
    signature = signature_row(
        letter, person, status=Signature.Status.CONFIRMED, contact_email="jane.doe@example.org"
    )
    org = make_organization("ACAT UK", contact_email="office@acat.org.uk")
    claim = signature_row(letter, org, status=Signature.Status.CONFIRMED, contact_email="office@acat.org.uk")

    for url in [
        "/admin/letters/signature/",
        f"/admin/letters/signature/{signature.pk}/change/",
        f"/admin/letters/signature/{claim.pk}/change/",
        "/admin/signatories/individual/",
        f"/admin/signatories/individual/{person.pk}/change/",
        f"/admin/signatories/organization/{org.pk}/change/",
    ]:
        page = moderator_client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        assert "jane.doe@" not in html and "office@" not in html, url
        assert "@example.org" in html or "@acat.org.uk" in html, url
        assert 'name="contact_email"' not in html, url

    moderator_client.post(
        f"/admin/letters/signature/{signature.pk}/change/",
        {"contact_email": "attacker@evil.example", "signer_name": "", "notes": "", "contact_consent": ""},
    )
    signature.refresh_from_db()
    assert signature.contact_email == "jane.doe@example.org"
    # Organizers, who may export private data, still read and correct the address.
    from django.test import Client

    organizer = Client()
    organizer.force_login(staff)
    assert (
        'name="contact_email"'
        in organizer.get(f"/admin/letters/signature/{signature.pk}/change/").content.decode()
    )


def test_a_moderator_cannot_find_who_signed_by_searching_a_full_address(moderator_client, staff, letter):
    # A Moderator typed a journalist's address into the search box and learned that she had signed.
    person = make_individual("Jane Doe", email="jane.doe@example.org")
    signature_row(letter, person, status=Signature.Status.CONFIRMED, contact_email="jane.doe@example.org")
    org = make_organization("ACAT UK", contact_email="office@acat.org.uk")
    signature_row(letter, org, status=Signature.Status.CONFIRMED, contact_email="office@acat.org.uk")
    searches = {
        "/admin/letters/signature/": ("jane.doe@example.org", "office@acat.org.uk"),
        "/admin/signatories/individual/": ("jane.doe@example.org",),
        "/admin/signatories/organization/": ("office@acat.org.uk",),
    }
    from django.test import Client

    organizer = Client()
    organizer.force_login(staff)
    for url, addresses in searches.items():
        for address in addresses:
            found = moderator_client.get(url, {"q": address})
            assert found.status_code == 200
            assert "0 results" in found.content.decode(), (url, address)
            assert "0 results" not in organizer.get(url, {"q": address}).content.decode(), (url, address)
        # Names still find their rows.
        assert (
            "0 results"
            not in moderator_client.get(
                url, {"q": "ACAT" if "organization" in url else "Jane"}
            ).content.decode()
        )
