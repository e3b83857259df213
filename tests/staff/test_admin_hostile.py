"""
Hostile or mistyped input in the staff panel: a clear error next to the field,
or a 400 (a list's own "?e=1" for a list's filter), never a 500, and nothing
stored is lost or changed.
"""

import datetime as dt

import pytest
from django.test import Client

from letters.admin.params import MAX_ID, database_id
from letters.models import Correction, Letter, Signature
from signatories.models import DismissedDuplicate, Individual, Organization
from tests.factories import letter_form_data, make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db

HUGE = "9" * 20  # beyond a signed 64-bit integer
ENORMOUS = "1" * 5000  # beyond what int() reads from a string
OUT_OF_RANGE = "Enter a day after 1 January 1900 and before 1 January 9999."


@pytest.fixture
def hostile(staff):
    """A logged-in organizer whose client answers a server error with a 500 page, as in production."""
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    return client


def test_database_id_takes_ascii_digits_that_fit_a_bigint():
    assert database_id("42") == 42
    assert database_id(str(MAX_ID)) == MAX_ID
    assert database_id("0" * 30 + "7") == 7
    for bad in ["", "²", "٣", "-1", "+1", " 1", "1.0", "abc", str(MAX_ID + 1), HUGE, ENORMOUS]:
        assert database_id(bad) is None, bad


# 1. A letter's time zone ----------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Lndon", "../x", "Europe", "zone.tab", "x" * 300, "/etc/passwd"])
def test_a_time_zone_that_is_not_one_is_an_error_beside_the_field(hostile, zone):
    letter = make_letter(timezone="Asia/Seoul")

    response = hostile.post(
        f"/admin/letters/letter/{letter.pk}/change/",
        letter_form_data(letter, timezone=zone, title="Changed"),
    )

    assert response.status_code == 200
    assert "timezone" in response.context["adminform"].form.errors
    stored = Letter.objects.get(pk=letter.pk)
    assert (stored.timezone, stored.title) == ("Asia/Seoul", letter.title)


def test_a_new_letter_with_a_bad_time_zone_is_not_stored(hostile, letter):
    data = letter_form_data(letter, slug="another", timezone="Europe")

    response = hostile.post("/admin/letters/letter/add/", data)

    assert response.status_code == 200
    assert "timezone" in response.context["adminform"].form.errors
    assert not Letter.objects.filter(slug="another").exists()


# 2. The merge page's ids ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["individual", "organization"])
@pytest.mark.parametrize("bad", ["²", "٣", HUGE, ENORMOUS])
def test_merge_ids_no_database_can_hold_are_refused(hostile, kind, bad):
    first = make_individual() if kind == "individual" else make_organization()
    second = make_individual() if kind == "individual" else make_organization()
    url = f"/admin/signatories/{kind}/merge/"

    shown = hostile.get(url, {"ids": f"{bad},{first.pk},{second.pk}"})
    chosen = hostile.get(url, {"ids": f"{bad},{first.pk},{second.pk}", "keep": first.pk})
    merged = hostile.post(
        url + f"?ids={first.pk},{second.pk}", {"ids": f"{bad},{second.pk}", "keep": first.pk}
    )

    assert {shown.status_code, chosen.status_code, merged.status_code} == {400}
    model = Individual if kind == "individual" else Organization
    assert model.objects.filter(pk__in=[first.pk, second.pk]).count() == 2


# 3. Dismissing a pair of possible duplicates --------------------------------------------------


@pytest.mark.parametrize("kind", ["individual", "organization"])
def test_a_pair_that_is_not_two_existing_records_is_not_dismissed(hostile, kind):
    record = make_individual() if kind == "individual" else make_organization()
    url = f"/admin/signatories/{kind}/duplicates/dismiss/"
    pairs = [
        (record.pk, record.pk),
        (-1, record.pk),
        (HUGE, record.pk),
        (ENORMOUS, record.pk),
        ("²", record.pk),
        (record.pk, 987654),  # no such record
        (987654, 987655),
    ]

    for first, second in pairs:
        response = hostile.post(url, {"first": first, "second": second}, follow=True)
        assert response.status_code == 200, (first, second)
        assert "That pair is not one the page offered." in response.content.decode()

    assert not DismissedDuplicate.objects.exists()


def test_a_real_pair_is_still_dismissed(hostile):
    first, second = make_individual("Ann Lee"), make_individual("Anne Lee")
    hostile.post(
        "/admin/signatories/individual/duplicates/dismiss/", {"first": second.pk, "second": first.pk}
    )
    assert DismissedDuplicate.objects.filter(first_id=first.pk, second_id=second.pk).exists()


# 4. The corrections of one signature ----------------------------------------------------------


@pytest.mark.parametrize("bad", ["²", HUGE, ENORMOUS, "-1"])
def test_the_corrections_list_refuses_a_signature_no_database_can_hold(hostile, letter, bad):
    signature = signature_row(letter, make_individual())
    Correction.objects.create(signature=signature, name="Someone Else")

    response = hostile.get("/admin/letters/correction/", {"signature": bad})

    # As the admin answers any lookup it cannot use: back to the whole list.
    assert response.status_code == 302
    assert response.url.endswith("?e=1")
    assert hostile.get(response.url).status_code == 200


def test_the_corrections_list_still_shows_one_signatures_corrections(hostile, letter):
    signature = signature_row(letter, make_individual())
    Correction.objects.create(signature=signature, name="Someone Else")

    response = hostile.get("/admin/letters/correction/", {"signature": signature.pk})

    assert response.status_code == 200
    assert "Someone Else" in response.content.decode()


# 5. Letter ids (and other filters) on lists and the export ------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"letter": "abc"},
        {"letter": HUGE},
        {"submitted_at__gte": "zz"},
        {"letter__exact": HUGE},
        {"letter__id__exact": HUGE},
        {"letter__id__in": f"1,{HUGE}"},
        {"letter__in": ENORMOUS},
        {"letter__gt": "²"},
    ],
)
def test_the_signature_export_refuses_bad_filters(hostile, letter, query):
    signature_row(letter, make_individual())

    got = hostile.get("/admin/letters/signature/export/", query)
    posted = hostile.post(
        "/admin/letters/signature/export/?" + "&".join(f"{k}={v}" for k, v in query.items())
    )

    assert got.status_code == 400
    assert posted.status_code == 400


def test_the_signature_export_still_filters_by_letter(hostile, letter):
    response = hostile.get("/admin/letters/signature/export/", {"letter": letter.pk})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"letter__exact": HUGE},
        {"letter__id__exact": HUGE},
        {"letter__id__in": f"1,{HUGE}"},
        {"letter__in": ENORMOUS},
        {"letter_id": HUGE},
        {"letter__gte": HUGE},
        {"letter__pk__in": "²"},
    ],
)
@pytest.mark.parametrize("url", ["/admin/letters/signature/", "/admin/letters/delivery/"])
def test_lists_refuse_a_letter_id_no_database_can_hold(hostile, url, query):
    response = hostile.get(url, query)

    assert response.status_code == 302
    assert response.url.endswith("?e=1")
    assert hostile.get(response.url).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/letters/signature/?individual={HUGE}",
        f"/admin/letters/signature/?organization__id__in=1,{HUGE}",
        f"/admin/letters/signature/?id={HUGE}",
        f"/admin/letters/letter/?id={HUGE}",
        f"/admin/letters/letter/?pk__in={ENORMOUS}",
        f"/admin/letters/letter/?roster_version={HUGE}",
        f"/admin/letters/letter/?roster_version__gte=-{HUGE}",
        f"/admin/letters/correction/?signature__exact={HUGE}",
        f"/admin/letters/correction/?signature_id={HUGE}",
        f"/admin/letters/delivery/?number={HUGE}",
        f"/admin/signatories/individual/?id={HUGE}",
        f"/admin/signatories/organization/?id__in=1,{HUGE}",
    ],
)
def test_every_list_refuses_an_id_or_number_no_database_can_hold(hostile, letter, url):
    signature_row(letter, make_individual())

    response = hostile.get(url)

    assert response.status_code == 302
    assert response.url.endswith("?e=1")


def test_the_delivery_list_refuses_a_letter_no_database_can_hold(hostile, letter):
    response = hostile.get("/admin/letters/delivery/", {"letter": HUGE})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "query", [{"as_of__year": HUGE}, {"as_of__year": "9999"}, {"as_of__year": "2023", "as_of__month": HUGE}]
)
def test_the_delivery_list_refuses_a_year_no_calendar_holds(hostile, query):
    response = hostile.get("/admin/letters/delivery/", query)
    assert response.status_code == 302


def test_lists_still_filter_by_letter(hostile, letter):
    other = make_letter(title="Another letter")
    signature_row(letter, make_individual("Ada Lovelace"), status=Signature.Status.CONFIRMED)
    signature_row(other, make_individual("Grace Hopper"), status=Signature.Status.CONFIRMED)

    for query in [
        {"letter": letter.pk},
        {"letter__id__exact": letter.pk},
        {"letter__id__in": f"{letter.pk}"},
    ]:
        html = hostile.get("/admin/letters/signature/", query).content.decode()
        assert "Ada Lovelace" in html and "Grace Hopper" not in html, query
    assert hostile.get("/admin/letters/delivery/", {"letter__id__exact": letter.pk}).status_code == 200
    assert hostile.get("/admin/letters/delivery/", {"letter__isnull": "False"}).status_code == 200


# 6. Dates a database cannot store -------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "field", "value"),
    [
        ("America/New_York", "closes_at", "31 Dec 9999, 23:59"),
        ("Asia/Tokyo", "opens_at", "1 Jan 0001, 00:00"),
        ("Asia/Tokyo", "opens_at", "0001-01-01 00:00"),
        ("UTC", "closes_at", "9999-12-31T23:59"),
        ("UTC", "opens_at", "1 Jan 1899, 00:00"),
        ("Europe/Zurich", "closes_at", "1 Jan 9999, 00:00"),
    ],
)
def test_a_letter_time_out_of_range_is_an_error_beside_the_field(hostile, zone, field, value):
    letter = make_letter(timezone=zone, closes_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))

    response = hostile.post(
        f"/admin/letters/letter/{letter.pk}/change/", letter_form_data(letter, **{field: value})
    )

    assert response.status_code == 200
    assert OUT_OF_RANGE in str(response.context["adminform"].form.errors[field])
    stored = Letter.objects.get(pk=letter.pk)
    assert (stored.opens_at, stored.closes_at) == (None, dt.datetime(2030, 1, 1, tzinfo=dt.UTC))


def test_a_signature_entered_by_hand_at_an_impossible_time_is_refused(hostile):
    letter = make_letter(timezone="Asia/Tokyo")
    person = make_individual()

    response = hostile.post(
        "/admin/letters/signature/add/",
        {
            "letter": letter.pk,
            "individual": person.pk,
            "signed_at": "1 Jan 0001, 00:00",
            "public_consent": "on",
        },
    )

    assert response.status_code == 200
    assert "signed_at" in response.context["adminform"].form.errors
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("submitted_until", "31 Dec 9999, 23:59"),
        ("submitted_from", "1 Jan 0001, 00:00"),
        ("submitted_until", "9999-12-31T23:59"),
    ],
)
def test_an_invalidation_window_out_of_range_is_an_error_beside_the_field(hostile, letter, field, value):
    signature = signature_row(letter, make_individual(), status=Signature.Status.CONFIRMED, ip_hash="bot")
    data = {"letter": letter.pk, "ip_hash": "bot", field: value, "reason": "spam"}

    previewed = hostile.post("/admin/letters/signature/invalidate/", data)
    confirmed = hostile.post(
        "/admin/letters/signature/invalidate/", data | {"confirm": "1", "expected_count": 1}
    )

    for response in (previewed, confirmed):
        assert response.status_code == 200
        assert OUT_OF_RANGE in str(response.context["form"].errors[field])
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED


def test_a_delivery_of_an_impossible_day_is_refused(hostile, letter):
    response = hostile.post(
        "/admin/letters/delivery/add/",
        {"letter": letter.pk, "as_of": "9999-12-31", "recipient": "The Minister", "note": ""},
    )

    assert response.status_code == 200
    assert "as_of" in response.context["adminform"].form.errors
    assert not letter.deliveries.exists()


@pytest.mark.parametrize("typed", ["jane.doe@gmail.com", "JaneDoe+letters@gmail.com"])
def test_a_second_person_with_the_same_mailbox_is_refused_beside_the_address(staff_client, typed):
    # The mailbox (dots and +tags aside) is unique, the form shows the address: it was an IntegrityError.
    from signatories.models import Individual

    jane = Individual.objects.create(name="Jane Doe", email="janedoe@gmail.com")
    other = Individual.objects.create(name="Other Person")

    added = staff_client.post("/admin/signatories/individual/add/", {"name": "Jane D.", "email": typed})
    changed = staff_client.post(
        f"/admin/signatories/individual/{other.pk}/change/", {"name": "Other Person", "email": typed}
    )

    for response in (added, changed):
        assert response.status_code == 200
        assert f"#{jane.pk} Jane Doe has this mailbox already" in response.content.decode()
    assert Individual.objects.count() == 2
    other.refresh_from_db()
    assert other.email == ""


@pytest.mark.parametrize(
    "url",
    [
        "/admin/letters/signature/?queue=all&source__exact=%00",
        "/admin/letters/signature/?queue=all&status__exact=a%00b",
        "/admin/letters/signature/?queue=all&q=%00",
        "/admin/signatories/individual/?country=%00",
        "/admin/signatories/individual/?q=Jane%00",
        "/admin/letters/letter/?q=%00",
        "/admin/letters/delivery/?recipient=%00",
    ],
)
def test_a_nul_character_in_a_list_query_is_refused_not_a_500(staff_client, url):
    # PostgreSQL refuses a NUL in any text it is asked to compare (DataError): SQLite did not.
    staff_client.raise_request_exception = False
    response = staff_client.get(url)
    assert response.status_code in {200, 302, 400}, response.status_code


@pytest.mark.parametrize(
    ("url", "data", "field", "message"),
    [
        ("individual", {"name": "\u200b"}, "name", "Enter a name with at least one letter."),
        ("individual", {"name": "!!! ---"}, "name", "Enter a name with at least one letter."),
        ("individual", {"name": "\u202eLanoitanretni ytsenmA"}, "name", "on one line"),
        ("individual", {"name": "Ana Pérez", "title": "Professor\u202eevil"}, "title", "on one line"),
        ("organization", {"name": "\u200b\u200b"}, "name", "Enter a name with at least one letter."),
        ("organization", {"name": "Amnesty", "acronym": "A\u202eI"}, "acronym", "on one line"),
    ],
)
def test_a_name_the_public_form_refuses_is_refused_beside_the_field_on_the_change_form(
    staff_client, letter, url, data, field, message
):
    # One rule for a printed line (signatories.normalize): the list would print a blank or reversed entry.
    record = make_individual("Ana Pérez") if url == "individual" else make_organization("Amnesty")
    signature_row(letter, record)
    before = getattr(record, field)

    response = staff_client.post(f"/admin/signatories/{url}/{record.pk}/change/", data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field] and message in errors[field][0]
    record.refresh_from_db()
    assert getattr(record, field) == before
