import datetime as dt
import hashlib
import re
import subprocess

import pytest
from django.core.exceptions import ValidationError

from letters import lifecycle
from letters.models import Delivery, FrozenDeliveryError, Signature
from letters.outputs.deliveries import delivery_record, since_delivery
from letters.rosters import Roster
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

SEPT_21 = dt.date(2023, 9, 21)


@pytest.fixture
def signed(letter):
    signature_row(
        letter,
        make_individual("Tomás Ojea-Quintana", title="Former UN Special Rapporteur", email="t@example.org"),
    )
    signature_row(letter, make_individual("Åsa Lindqvist", title="Member of the European Parliament"))
    signature_row(letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"))
    return letter


@pytest.fixture
def delivered(signed, staff):
    return delivery_record(
        letter=signed,
        as_of=SEPT_21,
        recipient="Office of the President",
        note="Handed over at the gate",
        user=staff,
    )


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "delivery.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.slow
def test_it_freezes_the_entries_the_pdf_and_its_hash(delivered, signed, staff):
    delivery = Delivery.objects.get(pk=delivered.pk)
    assert delivery.number == 1
    assert delivery.recorded_by == staff
    assert delivery.entries == [entry.as_dict() for entry in Roster(signed, SEPT_21).entries()]
    assert bytes(delivery.pdf).startswith(b"%PDF-")
    assert delivery.pdf_sha256 == hashlib.sha256(bytes(delivery.pdf)).hexdigest()


@pytest.mark.slow
def test_deliveries_are_numbered_per_letter(delivered, signed):
    second = delivery_record(letter=signed, as_of=SEPT_21, recipient="The press", note="", user=None)
    other = make_letter()
    signature_row(other, make_individual("Someone Else"))
    first_of_other = delivery_record(letter=other, as_of=SEPT_21, recipient="Minister", note="", user=None)
    assert (second.number, first_of_other.number) == (2, 1)


@pytest.mark.slow
def test_a_delivery_stays_identical_after_a_title_edit_and_a_withdrawal(client, delivered, signed, tmp_path):
    frozen_entries = list(delivered.entries)
    tomas = signed.signatures.get(individual__name="Tomás Ojea-Quintana")
    tomas.individual.title = "Professor of Law"
    tomas.individual.save()
    asa = signed.signatures.get(individual__name="Åsa Lindqvist")
    asa.withdrawn_at = dt.datetime(2023, 9, 25, tzinfo=dt.UTC)
    asa.save()
    # Even a later view of the same day no longer shows the old title.
    assert "Professor of Law" in client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()

    delivery = Delivery.objects.get(pk=delivered.pk)
    assert delivery.entries == frozen_entries
    html = client.get("/letters/civic-space/deliveries/1/").content.decode()
    assert "Former UN Special Rapporteur" in html
    assert "Professor of Law" not in html
    assert "Åsa Lindqvist" in html
    response = client.get("/letters/civic-space/deliveries/1/letter.pdf")
    assert hashlib.sha256(response.content).hexdigest() == delivered.pdf_sha256
    text = pdf_text(response.content, tmp_path)
    assert "Former UN Special Rapporteur" in text and "Professor of Law" not in text


@pytest.mark.slow
@pytest.mark.parametrize(
    "edit",
    [
        {"section_order": "organizations"},
        {"accepts_individuals": False},
    ],
)
def test_the_delivery_page_keeps_its_order_and_heading_after_the_letters_settings_change(
    client, delivered, signed, edit
):
    # As delivered: individuals first, under the heading of both kinds.
    def shown() -> tuple[bool, bool]:
        html = client.get("/letters/civic-space/deliveries/1/").content.decode()
        return (
            html.index("Tomás Ojea-Quintana") < html.index("Asociación Pro Derechos Humanos"),
            "Signatory organizations and individuals" in html,
        )

    assert shown() == (True, True)
    for name, value in edit.items():
        setattr(signed, name, value)
    signed.save()

    assert shown() == (True, True)


def test_a_recorded_delivery_is_never_changed(delivered):
    delivered.recipient = "Someone else"
    with pytest.raises(FrozenDeliveryError):
        delivered.save()
    assert Delivery.objects.get(pk=delivered.pk).recipient == "Office of the President"


def test_a_day_still_to_come_cannot_be_delivered(signed):
    with pytest.raises(ValidationError) as error:
        delivery_record(letter=signed, as_of=dt.date(2999, 1, 1), recipient="Minister", note="", user=None)
    assert "as_of" in error.value.message_dict
    assert not Delivery.objects.exists()


def test_a_day_nobody_was_listed_cannot_be_delivered(signed):
    with pytest.raises(ValidationError) as error:
        delivery_record(letter=signed, as_of=dt.date(2023, 8, 1), recipient="Minister", note="", user=None)
    assert "nothing to deliver" in error.value.message_dict["as_of"][0]


@pytest.mark.slow
def test_the_public_page_shows_the_delivery_without_private_fields(
    client, delivered, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = client.get("/letters/civic-space/deliveries/1/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Office of the President" in html
    assert "Signatory organizations and individuals (as of 21 September 2023)" in html
    assert "2 individuals and 1 organization" in html
    assert delivered.pdf_sha256 in html
    assert "/letters/civic-space/deliveries/1/letter.pdf" in html
    assert "Handed over at the gate" not in html  # the note is for staff
    assert "example.org" not in html and "organizer" not in html


@pytest.mark.slow
def test_the_delivered_pdf_downloads_with_a_dated_name_and_etag(client, delivered):
    response = client.get("/letters/civic-space/deliveries/1/letter.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="civic-space-delivery-1-as-of-2023-09-21.pdf"'
    again = client.get(
        "/letters/civic-space/deliveries/1/letter.pdf", headers={"if-none-match": response["ETag"]}
    )
    assert again.status_code == 304


def test_a_delivered_pdf_kept_from_the_public_says_so_in_the_visitors_language(client, delivered):
    # After a signer erased their name, a French visitor read a hard-coded English sentence.
    lifecycle.signature_erase(signature=Signature.objects.get(individual__name="Tomás Ojea-Quintana"))
    response = client.get(f"/letters/civic-space/deliveries/{delivered.number}/letter.pdf?lang=fr")
    assert response.status_code == 410
    assert response.content.decode().startswith("Ce PDF nomme des signataires qui ont depuis demandé")
    assert response["Content-Language"] == "fr"


def test_the_delivered_pdf_that_names_an_erased_signer_reaches_staff_marked_private(client, delivered, staff):
    # Kept for staff only, it went out as "no-cache": a shared cache (an office proxy, a CDN) may store that.
    lifecycle.signature_erase(signature=Signature.objects.get(individual__name="Tomás Ojea-Quintana"))
    client.force_login(staff)
    response = client.get("/letters/civic-space/deliveries/1/letter.pdf")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


def test_a_staff_session_without_its_second_factor_never_gets_the_pdf_kept_for_staff(
    client, delivered, staff, settings
):
    # It names signers who asked to be removed from every list: a password alone is not staff.
    settings.STAFF_REQUIRE_2FA = True
    lifecycle.signature_erase(signature=Signature.objects.get(individual__name="Tomás Ojea-Quintana"))
    client.force_login(staff)
    assert client.get("/letters/civic-space/deliveries/1/letter.pdf").status_code == 410
    assert "/deliveries/1/letter.pdf" not in client.get("/letters/civic-space/deliveries/1/").content.decode()


def test_an_unknown_delivery_is_a_404(client, signed):
    assert client.get("/letters/civic-space/deliveries/1/").status_code == 404
    assert client.get("/letters/civic-space/deliveries/1/letter.pdf").status_code == 404


@pytest.fixture
def changed_since(delivered, signed):
    """After the delivery: one title edited, one withdrawal, one rejection, two new signatures."""
    tomas = signed.signatures.get(individual__name="Tomás Ojea-Quintana")
    tomas.individual.title = "Professor of Law"
    tomas.individual.save()
    Signature.objects.filter(individual__name="Åsa Lindqvist").update(
        withdrawn_at=dt.datetime(2023, 9, 25, 12, tzinfo=dt.UTC), updated_at=dt.datetime.now(dt.UTC)
    )
    Signature.objects.filter(organization__name="Asociación Pro Derechos Humanos").update(
        status=Signature.Status.REJECTED, updated_at=dt.datetime.now(dt.UTC)
    )
    signature_row(
        signed,
        make_individual("Lee Yanghee", sort_name="Lee Yanghee"),
        signed_at=dt.datetime(2023, 9, 24, tzinfo=dt.UTC),
    )
    signature_row(signed, make_organization("ACAT UK"), signed_at=dt.datetime(2023, 10, 2, 12, tzinfo=dt.UTC))
    return delivered


@pytest.mark.slow
def test_since_delivery_lists_who_joined_and_who_left(changed_since):
    changes = since_delivery(changed_since, dt.date(2023, 10, 5))
    assert [entry.name for entry in changes.added] == ["Lee Yanghee", "ACAT UK"]
    assert [entry.name for entry in changes.withdrawn] == ["Åsa Lindqvist"]
    assert [entry.name for entry in changes.removed] == ["Asociación Pro Derechos Humanos"]
    # An edited title is the same signatory, not a withdrawal and a new signature.
    assert [(before.title, after.title) for before, after in changes.changed] == [
        ("Former UN Special Rapporteur", "Professor of Law")
    ]
    assert changes.delivered.counts["total"] == 3
    assert changes.roster.counts["total"] == 3


@pytest.mark.slow
def test_since_delivery_as_of_an_earlier_day_leaves_out_what_came_later(changed_since):
    changes = since_delivery(changed_since, dt.date(2023, 9, 24))
    assert [entry.name for entry in changes.added] == ["Lee Yanghee"]
    assert changes.withdrawn == []  # Åsa withdrew on the 25th


@pytest.mark.slow
def test_the_since_page_shows_the_lists_with_counts(client, changed_since, django_assert_max_num_queries):
    with django_assert_max_num_queries(11):
        response = client.get("/letters/civic-space/deliveries/1/since/?as_of=2023-10-05")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<dd class="count-added">2</dd>' in html
    assert '<dd class="count-withdrawn">1</dd>' in html
    assert '<dd class="count-removed">1</dd>' in html
    added = html[html.index('id="added-heading"') : html.index('id="withdrawn-heading"')]
    assert "Lee Yanghee" in added and "ACAT UK" in added
    withdrawn = html[html.index('id="withdrawn-heading"') :]
    assert "Åsa Lindqvist" in withdrawn
    assert "Professor of Law" in html


def test_the_since_page_refuses_a_day_before_the_delivery(client, delivered):
    response = client.get("/letters/civic-space/deliveries/1/since/?as_of=2023-09-01")
    assert response.status_code == 400
    assert "on or after 21 September 2023" in response.content.decode()


@pytest.mark.slow
def test_staff_record_a_delivery_in_the_admin(client, signed, staff):
    client.force_login(staff)
    form = client.get("/admin/letters/delivery/add/").content.decode()
    for field in ("letter", "as_of", "recipient", "note"):
        assert f'name="{field}"' in form
    assert 'name="entries"' not in form and 'name="number"' not in form
    response = client.post(
        "/admin/letters/delivery/add/",
        {
            "letter": signed.pk,
            "as_of": "2023-09-21",
            "recipient": "Office of the President",
            "note": "By hand",
            "confirmed": "on",
        },
    )
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert (delivery.number, delivery.recorded_by, len(delivery.entries)) == (1, staff, 3)
    assert delivery.pdf_sha256


def test_the_admin_explains_a_day_that_cannot_be_delivered(client, signed, staff):
    client.force_login(staff)
    response = client.post(
        "/admin/letters/delivery/add/",
        {"letter": signed.pk, "as_of": "2023-08-01", "recipient": "Office of the President"},
    )
    assert response.status_code == 200
    assert "nothing to deliver" in response.content.decode()
    assert not Delivery.objects.exists()


@pytest.mark.slow
def test_the_admin_shows_a_recorded_delivery_read_only_and_never_deletes_it(client, delivered, staff):
    client.force_login(staff)
    page = client.get(f"/admin/letters/delivery/{delivered.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert delivered.pdf_sha256 in html
    client.post(
        f"/admin/letters/delivery/{delivered.pk}/change/",
        {"letter": delivered.letter.pk, "as_of": "2023-09-20", "recipient": "Changed"},
    )
    assert client.get(f"/admin/letters/delivery/{delivered.pk}/delete/").status_code == 403
    assert Delivery.objects.get().recipient == "Office of the President"


@pytest.mark.slow
def test_a_delivery_reuses_the_pdf_visitors_downloaded_for_that_day(client, signed, monkeypatch):
    downloaded = client.get("/letters/civic-space/letter.pdf?as_of=2023-09-21").content
    from letters.outputs import pdf as exports

    def no_rendering(roster, paper):
        raise AssertionError("rendered again")

    monkeypatch.setattr(exports, "render_pdf", no_rendering)
    delivery = delivery_record(letter=signed, as_of=SEPT_21, recipient="Minister", note="", user=None)
    assert bytes(delivery.pdf) == downloaded


@pytest.mark.slow
def test_a_delivery_is_never_deleted_nor_changed_in_bulk(delivered):
    with pytest.raises(FrozenDeliveryError):
        delivered.delete()
    with pytest.raises(FrozenDeliveryError):
        Delivery.objects.all().delete()
    with pytest.raises(FrozenDeliveryError):
        Delivery.objects.filter(pk=delivered.pk).update(recipient="Someone else")
    assert Delivery.objects.get().recipient == "Office of the President"


@pytest.mark.slow
def test_deleting_the_staff_user_who_recorded_it_keeps_the_delivery(delivered, staff):
    staff.delete()
    delivery = Delivery.objects.get()
    assert delivery.recorded_by is None
    assert delivery.pdf_sha256 == delivered.pdf_sha256


@pytest.mark.slow
def test_the_since_page_never_ties_a_signers_new_name_to_the_one_they_were_delivered_under(
    client, delivered, signed
):
    # A signer asked to be listed under a pseudonym: the page printed "Nadie Conocido — Delivered as: Tomás…".
    tomas = signed.signatures.get(individual__name="Tomás Ojea-Quintana").individual
    tomas.name = "Nadie Conocido"
    tomas.save()
    signature_row(signed, make_individual("Zoe Newcomer"), signed_at=dt.datetime(2023, 9, 24, tzinfo=dt.UTC))

    changes = since_delivery(delivered, dt.date(2023, 10, 5))
    assert changes.changed == []
    assert sorted(entry.name for entry in changes.added) == ["Nadie Conocido", "Zoe Newcomer"]
    assert [entry.name for entry in changes.removed] == ["Tomás Ojea-Quintana"]

    html = client.get("/letters/civic-space/deliveries/1/since/?as_of=2023-10-05").content.decode()
    since = html[: html.index("The delivered list")]  # the page's own lists, before the whole later list
    items = re.findall(r"<li[^>]*>.*?</li>", since, re.S)
    assert not [item for item in items if "Nadie Conocido" in item and "Tomás" in item]
    assert "Delivered as" not in since
    added = since[since.index('id="added-heading"') : since.index('id="withdrawn-heading"')]
    removed = since[since.index('id="removed-heading"') :]
    assert "Nadie Conocido" in added and "Tomás" not in added
    assert "Tomás Ojea-Quintana" in removed and "Nadie Conocido" not in removed
    assert '<dd class="count-added">2</dd>' in since


def test_the_admin_asks_before_recording_a_permanent_public_delivery(client, signed, staff):
    # Issue: a delivery was permanent and public without a word of warning.
    client.force_login(staff)
    data = {"letter": signed.pk, "as_of": "2023-09-21", "recipient": "Office of the President", "note": ""}

    response = client.post("/admin/letters/delivery/add/", data)

    assert response.status_code == 200
    assert not Delivery.objects.exists()
    html = response.content.decode()
    assert "Recording freezes the list of 3 names as of 21 September 2023 for good." in html
    assert "“Office of the President” will be shown as its recipient on a public page" in html
    assert "cannot be changed or deleted" in html
    assert 'name="confirmed"' in html

    response = client.post("/admin/letters/delivery/add/", data | {"confirmed": "on"})

    assert response.status_code == 302
    assert Delivery.objects.get().recipient == "Office of the President"


def test_the_delivery_page_names_the_zone_as_the_admin_does(client, staff_client, db):
    from letters.models import Letter

    letter = Letter.objects.create(
        slug="seoul", title="Seoul letter", body="Text.", status=Letter.Status.OPEN, timezone="Asia/Seoul"
    )
    signature_row(letter, make_individual("Kim Minji"))
    delivery = Delivery.objects.create(
        letter=letter, number=1, as_of=dt.date(2023, 9, 21), recipient="The Minister", pdf=b"%PDF-"
    )

    page = client.get("/letters/seoul/deliveries/1/").content.decode()
    admin = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()

    assert "Asia/Seoul" not in page
    assert f"{delivery.recorded_at.astimezone(letter.tzinfo):%H:%M} Seoul time (KST)" in page
    assert '<span class="timezone">Seoul time (KST)</span>' in admin
