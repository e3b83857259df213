"""Every time in the staff panel is in the letter's zone, named, in one format: "21 Sep 2023, 14:05 KST"."""

import datetime as dt
import io
import re

import pytest

from letters.admin.times import local_time
from letters.models import Letter, Signature
from letters.outputs.deliveries import delivery_record
from tests.factories import letter_form_data, make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db


def test_one_format_with_the_zone_abbreviation():
    moment = dt.datetime(2023, 9, 21, 5, 5, tzinfo=dt.UTC)
    assert local_time(moment, "Asia/Seoul") == "21 Sep 2023, 14:05 KST"
    assert local_time(moment, "Europe/Zurich") == "21 Sep 2023, 07:05 CEST"
    assert local_time(moment, "Asia/Dubai") == "21 Sep 2023, 09:05 UTC+04"
    assert local_time(None, "UTC") == ""


def test_a_letter_shows_its_opening_times_in_its_own_zone(staff_client):
    letter = make_letter(
        timezone="Europe/Zurich",
        opens_at=dt.datetime(2026, 11, 7, 8, 0, tzinfo=dt.UTC),
        closes_at=dt.datetime(2026, 12, 23, 16, 55, tzinfo=dt.UTC),
    )

    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()

    opens = re.search(
        r'<input[^>]* name="opens_at" value="([^"]*)"[^>]*> <span class="timezone">([^<]*)</span>', html
    )
    assert opens.groups()[0] == "7 Nov 2026, 09:00"
    assert opens.groups()[1] == "Zurich time (CET)"  # as the public pages name it
    assert 'name="closes_at" value="23 Dec 2026, 17:55"' in html


def test_a_letter_is_saved_with_times_read_in_the_zone_chosen_in_the_form(staff_client):
    letter = make_letter(timezone="UTC")

    response = staff_client.post(
        f"/admin/letters/letter/{letter.pk}/change/",
        letter_form_data(
            letter, timezone="Asia/Seoul", opens_at="2026-11-24T09:00", closes_at="2026-12-01T18:00"
        ),
    )

    assert response.status_code == 302
    letter.refresh_from_db()
    assert letter.opens_at == dt.datetime(2026, 11, 24, 0, 0, tzinfo=dt.UTC)
    assert letter.closes_at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_a_malformed_time_is_an_error_beside_the_field(staff_client):
    letter = make_letter()

    response = staff_client.post(
        f"/admin/letters/letter/{letter.pk}/change/", letter_form_data(letter, opens_at="next tuesday")
    )

    assert response.status_code == 200
    assert "opens_at" in response.context["adminform"].form.errors


def test_the_letter_list_shows_closing_times_in_the_letters_zone(staff_client):
    make_letter(timezone="Asia/Seoul", closes_at=dt.datetime(2023, 9, 21, 5, 5, tzinfo=dt.UTC))

    html = staff_client.get("/admin/letters/letter/").content.decode()

    assert "21 Sep 2023, 14:05 KST" in html


def test_the_queue_and_deliveries_show_times_in_the_letters_zone(staff_client, staff):
    letter = make_letter(timezone="Asia/Seoul")
    submitted = dt.datetime(2023, 9, 21, 5, 5, tzinfo=dt.UTC)
    signature_row(letter, make_individual(), status=Signature.Status.CONFIRMED, submitted_at=submitted)
    signature_row(letter, make_individual(), signed_at=submitted)
    delivery = delivery_record(
        letter=letter, as_of=dt.date(2023, 9, 21), recipient="The Minister", note="", user=staff
    )

    queue = staff_client.get("/admin/letters/signature/").content.decode()
    deliveries = staff_client.get("/admin/letters/delivery/").content.decode()
    recorded = staff_client.get(f"/admin/letters/delivery/{delivery.pk}/change/").content.decode()

    assert "21 Sep 2023, 14:05 KST" in queue
    assert "p.m." not in queue and "a.m." not in queue
    assert local_time(delivery.recorded_at, letter) in deliveries
    assert local_time(delivery.recorded_at, letter) in recorded


def test_what_django_renders_by_itself_has_the_same_format(staff_client):
    letter = make_letter()
    moment = dt.datetime(2023, 9, 21, 17, 55, tzinfo=dt.UTC)
    signature = signature_row(
        letter, make_individual(), status=Signature.Status.CONFIRMED, submitted_at=moment
    )

    html = staff_client.get(f"/admin/letters/signature/{signature.pk}/change/").content.decode()

    assert "p.m." not in html and "a.m." not in html
    # In the letter's zone (New York), as every time of a signature's page.
    assert "21 Sep 2023, 13:55 EDT" in html


def test_a_new_letter_takes_its_times_in_the_zone_chosen_for_it(staff_client):
    form = staff_client.get("/admin/letters/letter/add/").content.decode()
    # Not "UTC": the times are read in the zone chosen above them, in the same form.
    assert '<span class="timezone">UTC</span>' not in form
    assert '<span class="timezone">in the letter’s time zone, chosen above</span>' in form
    data = letter_form_data(make_letter(slug="model"), slug="new-one", timezone="Europe/Zurich")

    response = staff_client.post("/admin/letters/letter/add/", data | {"opens_at": "1 Dec 2026, 09:00"})

    assert response.status_code == 302
    assert Letter.objects.get(slug="new-one").opens_at == dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def test_changing_the_letters_zone_keeps_imported_and_entered_days_and_web_moments(staff_client, tmp_path):
    from django.core.management import call_command

    letter = make_letter(slug="seoul", timezone="Asia/Seoul")
    path = tmp_path / "signatures.csv"
    path.write_text("type,name,signed_on\nindividual,Paper Signer,2023-09-03\n", encoding="utf-8")
    call_command("import_signatures", "seoul", str(path), stdout=io.StringIO())
    web_moment = dt.datetime(2023, 9, 2, 16, tzinfo=dt.UTC)  # 3 Sep, 01:00 in Seoul; 2 Sep in New York
    signature_row(letter, make_individual("Web Signer"), signed_at=web_moment, source=Signature.Source.FORM)
    version = Letter.objects.get(pk=letter.pk).roster_version

    response = staff_client.post(
        f"/admin/letters/letter/{letter.pk}/change/", letter_form_data(letter, timezone="America/New_York")
    )

    assert response.status_code == 302
    data = staff_client.get("/letters/seoul/signatories.json").json()
    assert {row["name"]: row["signed_on"] for row in data["signatories"]} == {
        "Paper Signer": "2023-09-03",
        "Web Signer": "2023-09-02",
    }
    assert Signature.objects.get(individual__name="Web Signer").signed_at == web_moment
    assert Letter.objects.get(pk=letter.pk).roster_version > version


# America/Santiago's daylight-saving day, 3 Sep 2023, starts at 01:00: midnight never comes.
SANTIAGO_DST_DAY = dt.date(2023, 9, 3)


def _import_day(letter, name: str, tmp_path) -> None:
    from django.core.management import call_command

    path = tmp_path / f"{name}.csv"
    path.write_text(f"type,name,signed_on\nindividual,{name},{SANTIAGO_DST_DAY}\n", encoding="utf-8")
    call_command("import_signatures", letter.slug, str(path), stdout=io.StringIO())


def _signed_on(staff_client, letter) -> dict:
    data = staff_client.get(f"/letters/{letter.slug}/signatories.json").json()
    return {row["name"]: row["signed_on"] for row in data["signatories"]}


def test_an_import_on_santiagos_daylight_saving_day_keeps_its_day_when_the_zone_changes(
    staff_client, tmp_path
):
    letter = make_letter(slug="santiago", timezone="America/Santiago")
    _import_day(letter, "Paper Signer", tmp_path)
    assert Signature.objects.get().signed_at == dt.datetime(2023, 9, 3, 4, tzinfo=dt.UTC)  # 01:00 there

    response = staff_client.post(
        f"/admin/letters/letter/{letter.pk}/change/", letter_form_data(letter, timezone="America/Los_Angeles")
    )

    assert response.status_code == 302
    assert _signed_on(staff_client, letter) == {"Paper Signer": "2023-09-03"}  # it said 2023-09-02


def test_a_day_that_passed_through_santiago_stays_itself_in_the_next_zone(staff_client, tmp_path):
    letter = make_letter(slug="moving", timezone="UTC")
    _import_day(letter, "Paper Signer", tmp_path)
    for zone in ("America/Santiago", "America/Los_Angeles", "Asia/Seoul"):
        current = Letter.objects.get(pk=letter.pk)
        assert (
            staff_client.post(
                f"/admin/letters/letter/{letter.pk}/change/", letter_form_data(current, timezone=zone)
            ).status_code
            == 302
        )
        assert _signed_on(staff_client, letter) == {"Paper Signer": "2023-09-03"}, zone


def test_a_moment_that_reads_midnight_stays_that_moment(staff_client):
    from letters import lifecycle

    letter = make_letter(slug="moment", timezone="UTC")
    # Staff entered a time; a later zone change moved it as if it were a day.
    moment = dt.datetime(2023, 9, 3, 0, 0, tzinfo=dt.UTC)
    entered = lifecycle.signature_enter(
        letter=letter,
        signatory=make_individual("Timed Signer"),
        signed_at=moment,
        user=None,
        dated_by_day=False,
    )
    staff_client.post(
        f"/admin/letters/letter/{letter.pk}/change/", letter_form_data(letter, timezone="Asia/Seoul")
    )
    assert Signature.objects.get(pk=entered.pk).signed_at == moment


def test_existing_days_are_recognised_by_the_start_of_their_day_not_by_midnight():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("letters.migrations.0019_signature_dated_by_day")
    letter = make_letter(slug="santiago", timezone="America/Santiago")
    imported = signature_row(
        letter,
        make_individual("Imported"),
        signed_at=dt.datetime(2023, 9, 3, 4, tzinfo=dt.UTC),  # the start of 3 Sep there
        source=Signature.Source.IMPORT,
    )
    entered = signature_row(
        letter,
        make_individual("Entered"),
        signed_at=dt.datetime(2023, 9, 5, 3, tzinfo=dt.UTC),  # midnight on 5 Sep there
        source=Signature.Source.STAFF,
    )
    timed = signature_row(
        letter,
        make_individual("Timed"),
        signed_at=dt.datetime(2023, 9, 5, 15, tzinfo=dt.UTC),
        source=Signature.Source.STAFF,
    )
    web = signature_row(
        letter, make_individual("Web"), signed_at=dt.datetime(2023, 9, 5, 3, tzinfo=dt.UTC), source="form"
    )

    migration.mark_days(apps, None)

    days = dict(Signature.objects.values_list("pk", "dated_by_day"))
    assert days == {imported.pk: True, entered.pk: True, timed.pk: False, web.pk: False}


def test_staff_entering_santiagos_daylight_saving_day_without_a_time_date_it_by_the_day(staff_client):
    from letters import lifecycle

    letter = make_letter(slug="santiago", timezone="America/Santiago")
    entered = lifecycle.signature_enter(
        letter=letter,
        signatory=make_individual("Paper Signer"),
        signed_at=dt.datetime(2023, 9, 3, 4, tzinfo=dt.UTC),  # the start of 3 Sep there, read in UTC
        user=None,
    )
    assert entered.dated_by_day
    staff_client.post(
        f"/admin/letters/letter/{letter.pk}/change/", letter_form_data(letter, timezone="Asia/Seoul")
    )
    assert _signed_on(staff_client, letter) == {"Paper Signer": "2023-09-03"}


def test_an_import_written_a_batch_at_a_time_is_dated_by_its_day_too():
    # Imports write their rows with bulk_create (letters/spreadsheets/batches.py), not signature_enter.
    letter = make_letter(slug="batch", timezone="America/Santiago")
    Signature.objects.bulk_create(
        [
            Signature(
                letter=letter,
                individual=make_individual("Batch Signer"),
                source=Signature.Source.IMPORT,
                status=Signature.Status.APPROVED,
                signed_at=letter.start_of_day(SANTIAGO_DST_DAY),
                public_consent=True,
            )
        ]
    )
    assert Signature.objects.get(individual__name="Batch Signer").dated_by_day
    letter.timezone = "America/Los_Angeles"
    letter.save()
    signed_at = Signature.objects.get(individual__name="Batch Signer").signed_at
    assert letter.local_date(signed_at) == SANTIAGO_DST_DAY


def test_the_letter_form_leads_with_its_zone_chosen_by_city_and_country(staff_client):
    form = staff_client.get("/admin/letters/letter/add/").content.decode()

    assert form.index('name="timezone"') < form.index('name="opens_at"') < form.index('name="closes_at"')
    assert '<select name="timezone"' in form
    assert '<option value="Asia/Seoul">Seoul, South Korea (Asia/Seoul)</option>' in form
    assert "Where the letter’s days begin and end" in form
    # Plain help for the fields organizers mix up.
    assert "The letter’s name on the site" in form
    assert "The “Re:” line printed at the top of the letter itself" in form
    assert "type [^1] where its number goes" in form


def test_a_zone_typed_as_kst_is_read_as_seoul_and_ist_is_refused_beside_the_field(staff_client):
    model = make_letter(slug="model")
    data = letter_form_data(model, slug="seoul-letter", timezone="KST", opens_at="1 Dec 2026, 09:00")

    response = staff_client.post("/admin/letters/letter/add/", data)

    assert response.status_code == 302
    letter = Letter.objects.get(slug="seoul-letter")
    assert (letter.timezone, letter.opens_at) == ("Asia/Seoul", dt.datetime(2026, 12, 1, 0, 0, tzinfo=dt.UTC))

    response = staff_client.post("/admin/letters/letter/add/", data | {"slug": "other", "timezone": "IST"})

    assert response.status_code == 200
    assert "more than one time zone: choose the city from the list" in response.content.decode()
    assert not Letter.objects.filter(slug="other").exists()


def test_the_letter_page_previews_its_text(staff_client):
    letter = make_letter(slug="draft", status=Letter.Status.DRAFT, language="ko")

    form = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()

    assert '<a href="/letters/draft/?lang=ko">Preview the page as visitors see it</a>' in form
