import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from letters.models import Signature
from letters.rosters import AsOfError, Roster
from tests.factories import make_individual, make_organization, signature_row

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DAY = dt.date(2023, 9, 21)

pytestmark = pytest.mark.django_db


def at(hour: int, minute: int, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def names(letter, day=DAY) -> list[str]:
    return [entry.name for entry in Roster(letter, day).entries()]


def test_signature_confirmed_at_2359_local_time_is_on_that_days_roster(letter):
    # 23:59 in New York is already 03:59 the next day in UTC.
    signature_row(letter, make_individual("Late Signer"), signed_at=at(23, 59))
    assert names(letter) == ["Late Signer"]


def test_signature_confirmed_at_0001_next_local_day_is_not_on_the_roster(letter):
    signature_row(letter, make_individual("Early Signer"), signed_at=at(0, 1, DAY + dt.timedelta(days=1)))
    assert names(letter) == []
    assert names(letter, DAY + dt.timedelta(days=1)) == ["Early Signer"]


def test_signature_at_0001_utc_of_the_next_day_is_still_that_local_day(letter):
    # 00:01 UTC on the 22nd is 20:01 on the 21st in New York.
    signature_row(
        letter, make_individual("Evening Signer"), signed_at=dt.datetime(2023, 9, 22, 0, 1, tzinfo=dt.UTC)
    )
    assert names(letter) == ["Evening Signer"]


def test_withdrawn_before_the_day_is_not_listed(letter):
    signature_row(
        letter,
        make_individual("Gone"),
        signed_at=at(9, 0, dt.date(2023, 9, 1)),
        withdrawn_at=at(10, 0, dt.date(2023, 9, 20)),
    )
    assert names(letter) == []


def test_withdrawn_on_the_day_is_not_listed(letter):
    signature_row(
        letter,
        make_individual("Gone Today"),
        signed_at=at(9, 0, dt.date(2023, 9, 1)),
        withdrawn_at=at(23, 30),
    )
    assert names(letter) == []


def test_withdrawn_after_the_day_is_listed(letter):
    signature_row(
        letter,
        make_individual("Left Later"),
        signed_at=at(9, 0, dt.date(2023, 9, 1)),
        withdrawn_at=at(0, 5, DAY + dt.timedelta(days=1)),
    )
    assert names(letter) == ["Left Later"]
    assert names(letter, DAY + dt.timedelta(days=1)) == []


@pytest.mark.parametrize(
    "status", [Signature.Status.PENDING, Signature.Status.CONFIRMED, Signature.Status.REJECTED]
)
def test_signatures_not_approved_are_never_listed(letter, status):
    signature_row(letter, make_individual("Not Yet"), signed_at=at(9, 0, dt.date(2023, 9, 1)), status=status)
    assert names(letter) == []
    assert Roster(letter).entries() == []


def test_no_date_means_today(letter):
    now = timezone.now()
    signature_row(letter, make_individual("Signed An Hour Ago"), signed_at=now - dt.timedelta(hours=1))
    signature_row(
        letter,
        make_individual("Withdrew An Hour Ago"),
        signed_at=now - dt.timedelta(days=3),
        withdrawn_at=now - dt.timedelta(hours=1),
    )
    roster = Roster(letter)
    assert roster.as_of == now.astimezone(NEW_YORK).date()
    assert roster.is_today
    assert [entry.name for entry in roster.entries()] == ["Signed An Hour Ago"]


def test_other_letters_signatures_are_not_listed(letter):
    from tests.factories import make_letter

    other = make_letter()
    signature_row(other, make_individual("Elsewhere"), signed_at=at(9, 0))
    assert names(letter) == []


def test_counts_follow_the_sections_and_pluralize(letter):
    signature_row(letter, make_individual("One Person"), signed_at=at(9, 0))
    for i in range(3):
        signature_row(letter, make_organization(f"Org {i}"), signed_at=at(9, i))
    roster = Roster(letter, DAY)
    assert roster.counts == {
        "individuals": 1,
        "organizations": 3,
        "unnamed_individuals": 0,
        "unnamed_organizations": 0,
        "total": 4,
    }
    assert roster.counts_text == "1 individual and 3 organizations"


def test_heading_uses_the_letters_language(letter):
    assert Roster(letter, DAY).heading == "Signatory organizations and individuals (as of 21 September 2023)"
    letter.language = "en-us"
    assert Roster(letter, DAY).heading == "Signatory organizations and individuals (as of September 21, 2023)"


def test_organizations_first_when_the_letter_says_so(letter):
    letter.section_order = letter.SectionOrder.ORGANIZATIONS_FIRST
    signature_row(letter, make_individual("A Person"), signed_at=at(9, 0))
    signature_row(letter, make_organization("An Org"), signed_at=at(9, 0))
    roster = Roster(letter, DAY)
    assert [entry.type for entry in roster.entries()] == ["organization", "individual"]
    assert roster.counts_text == "1 organization and 1 individual"


def test_streamed_entries_equal_the_printed_ones(letter):
    for i in range(5):
        signature_row(letter, make_individual(f"Person {i} Name{i}"), signed_at=at(9, i))
        signature_row(letter, make_organization(f"Org {i}", acronym=f"O{i}"), signed_at=at(9, i))
    roster = Roster(letter, DAY)
    assert list(roster.iter_entries(chunk_size=2)) == roster.entries()


def test_signed_on_is_the_local_calendar_day(letter):
    signature_row(
        letter,
        make_individual("Late Signer"),
        signed_at=at(23, 59),
    )
    (entry,) = Roster(letter, DAY).entries()
    assert entry.signed_on == DAY


@pytest.mark.parametrize(
    "raw",
    [
        "2023-13-01",
        "21/09/2023",
        "2023-02-30",
        "yesterday",
        "2023-W38-4",
        "20230921",
        "٢٠٢٣-٠٩-٢١",
        "2023-09-21\x00",
    ],
)
def test_malformed_dates_are_refused_with_a_readable_message(letter, raw):
    with pytest.raises(AsOfError, match="is not a date"):
        Roster.for_request(letter, raw)


def test_a_future_date_is_refused(letter):
    with pytest.raises(AsOfError, match="has not happened yet"):
        Roster.for_request(letter, "2999-01-01")


def test_fingerprint_changes_when_a_listed_signatory_is_edited(letter):
    person = make_individual("Anna Example", title="Old title")
    signature_row(letter, person, signed_at=at(9, 0))
    before = Roster(letter, DAY).state_now()
    assert Roster(letter, DAY).state_now() == before
    person.title = "New title"
    person.save()
    assert Roster(letter, DAY).state_now() != before


def test_closing_the_form_to_individuals_takes_nobody_off_any_list(client, letter):
    # "Organizations only from now on": those who signed stay on every day's list, and every output agrees.
    signature_row(letter, make_organization("Org One"), signed_at=at(9, 0))
    signature_row(letter, make_individual("Ivy Person"), signed_at=at(10, 0))
    letter.accepts_individuals = False
    letter.save()

    assert names(letter) == ["Ivy Person", "Org One"]
    page = client.get("/letters/civic-space/?as_of=2023-09-21").content.decode()
    assert "Ivy Person" in page and "1 individual and 1 organization" in page
    data = client.get("/letters/civic-space/signatories.json?as_of=2023-09-21").json()
    assert [row["name"] for row in data["signatories"]] == ["Ivy Person", "Org One"]
    assert data["counts"] == {
        "individuals": 1,
        "organizations": 1,
        "unnamed_individuals": 0,
        "unnamed_organizations": 0,
        "total": 2,
    }
    assert "Ivy Person" in client.get("/letters/civic-space/embed/").content.decode()
    sign_page = client.get("/letters/civic-space/sign/").content.decode()
    assert 'value="individual"' not in sign_page
