"""What each kind of staff user may do with the private data: the export, and the pages of our own."""

import pytest
from django.contrib.auth.models import Group
from django.urls import resolve

from letters.models import Signature
from letters.spreadsheets.resources import SignatureExportResource
from tests.factories import make_individual, make_organization, signature_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def bare_staff_client(client, django_user_model):
    """A staff user with no permission at all: may sign in to /admin/, nothing more."""
    client.force_login(django_user_model.objects.create_user("bare", "bare@example.org", "pw", is_staff=True))
    return client


@pytest.fixture
def organizer_client(client, django_user_model):
    user = django_user_model.objects.create_user("org", "org@example.org", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Organizer"))
    client.force_login(user)
    return client


@pytest.fixture
def private_signature(letter):
    return signature_row(
        letter,
        make_individual("Private Person", email="private@example.org"),
        contact_email="private@example.org",
        ip_hash="f" * 64,
        notes="a note only staff may read",
    )


def export(client):
    data = {"format": "0", "resource": "0"}
    for name in SignatureExportResource().get_export_order():
        data[f"signatureexportresource_{name}"] = "on"
    return client.post("/admin/letters/signature/export/?queue=all", data)


def test_a_staff_user_without_the_export_permission_gets_403_and_no_data(
    bare_staff_client, private_signature
):
    response = export(bare_staff_client)

    assert response.status_code == 403
    assert b"private@example.org" not in response.content
    assert b"f" * 64 not in response.content


def test_a_moderator_cannot_export_nor_sees_the_button(moderator_client, private_signature):
    response = export(moderator_client)

    assert response.status_code == 403
    assert b"private@example.org" not in response.content
    queue = moderator_client.get("/admin/letters/signature/?queue=all")
    assert queue.status_code == 200
    assert "/admin/letters/signature/export/" not in queue.content.decode()


def test_an_organizer_exports_with_the_private_fields(organizer_client, private_signature):
    queue = organizer_client.get("/admin/letters/signature/?queue=all")
    assert "/admin/letters/signature/export/" in queue.content.decode()

    response = export(organizer_client)

    assert response.status_code == 200
    assert b"private@example.org" in response.content
    assert b"a note only staff may read" in response.content


def test_the_organizer_group_holds_every_letters_and_signatories_permission():
    from django.contrib.auth.models import Permission

    everything = set(
        Permission.objects.filter(content_type__app_label__in=["letters", "signatories"]).values_list(
            "codename", flat=True
        )
    )
    organizer = set(Group.objects.get(name="Organizer").permissions.values_list("codename", flat=True))
    moderator = set(Group.objects.get(name="Moderator").permissions.values_list("codename", flat=True))

    assert "export_signature" in organizer
    assert organizer >= everything
    assert "export_signature" not in moderator


def test_bulk_rejection_answers_403_not_500_without_the_change_permission(bare_staff_client, letter):
    assert bare_staff_client.get("/admin/letters/signature/invalidate/").status_code == 403
    response = bare_staff_client.post(
        "/admin/letters/signature/invalidate/",
        {"letter": letter.pk, "email_domain": "example.org", "reason": "spam", "confirm": "1"},
    )
    assert response.status_code == 403


CUSTOM_PAGES = [
    ("get", "/admin/letters/signature/import/"),
    ("post", "/admin/letters/signature/import/"),
    ("post", "/admin/letters/signature/process_import/"),
    ("get", "/admin/letters/signature/export/"),
    ("post", "/admin/letters/signature/export/"),
    ("get", "/admin/letters/signature/invalidate/"),
    ("post", "/admin/letters/signature/invalidate/"),
    ("get", "/admin/signatories/organization/duplicates/"),
    ("post", "/admin/signatories/organization/duplicates/dismiss/"),
    ("get", "/admin/signatories/organization/merge/"),
    ("post", "/admin/signatories/organization/merge/"),
    ("get", "/admin/signatories/individual/duplicates/"),
    ("post", "/admin/signatories/individual/duplicates/dismiss/"),
    ("get", "/admin/signatories/individual/merge/"),
    ("post", "/admin/signatories/individual/merge/"),
    ("post", "/admin/signatories/organization/"),  # the merge action
    ("post", "/admin/signatories/individual/"),
    ("post", "/admin/letters/signature/"),  # the moderation actions
]


@pytest.mark.parametrize(("method", "url"), CUSTOM_PAGES)
def test_every_page_of_ours_refuses_a_staff_user_without_permissions(bare_staff_client, letter, method, url):
    # Each is a page of its own, not an unknown address the admin reads as an object's id.
    assert not resolve(url).url_name.endswith("_change")
    first, second = make_organization("Amnesty"), make_organization("amnesty")
    signature = signature_row(letter, make_individual(), status=Signature.Status.CONFIRMED)
    data = {
        "first": first.pk,
        "second": second.pk,
        "keep": first.pk,
        "action": "merge_selected" if "signatories" in url else "approve",
        "_selected_action": [first.pk, second.pk] if "signatories" in url else [signature.pk],
        "apply": "1",
        "letter": letter.pk,
        "format": "0",
        "resource": "0",
        "import_file_name": "x",
        "original_file_name": "x.csv",
    }

    query = {"ids": f"{first.pk},{second.pk}", "keep": first.pk} if url.endswith("merge/") else None
    response = getattr(bare_staff_client, method)(url, data if method == "post" else query)

    assert response.status_code in {302, 403}, response.status_code
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert first.__class__.objects.filter(pk__in=[first.pk, second.pk]).count() == 2
