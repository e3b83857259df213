import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from letters.models import Letter, Signature
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def test_it_shows_the_letter_and_its_roster(client, letter):
    signature_row(letter, make_individual("Tomás Ojea-Quintana", title="Former UN Special Rapporteur"))
    signature_row(letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"))
    response = client.get("/letters/civic-space/?as_of=2023-09-21")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Re: The matter at hand" in html
    assert "Dear Minister," in html
    assert 'class="footnote"' in html  # footnotes rendered
    assert "Signatory organizations and individuals (as of 21 September 2023)" in html
    assert "1 individual and 1 organization" in html
    assert "Tomás Ojea-Quintana" in html and "Former UN Special Rapporteur" in html
    assert "Asociación Pro Derechos Humanos (APDH)" in html
    assert html.index(">Individuals<") < html.index(">Organizations<")


def test_it_shows_todays_date_without_as_of(client, letter):
    response = client.get("/letters/civic-space/")
    today = timezone.now().astimezone(letter.tzinfo).date()
    assert f"(as of {today.day} {today:%B %Y})" in response.content.decode()


def test_pending_and_rejected_names_never_appear(client, letter):
    signature_row(letter, make_individual("Pending Person"), status=Signature.Status.PENDING)
    signature_row(letter, make_individual("Rejected Person"), status=Signature.Status.REJECTED)
    html = client.get("/letters/civic-space/").content.decode()
    assert "Pending Person" not in html
    assert "Rejected Person" not in html


@pytest.mark.parametrize("as_of", ["2023-13-01", "tomorrow", "2023-9-1", "'; DROP TABLE letters_letter;--"])
def test_malformed_as_of_is_a_400_with_a_message(client, letter, as_of):
    response = client.get("/letters/civic-space/", {"as_of": as_of})
    assert response.status_code == 400
    assert "is not a date" in response.content.decode()
    assert "YEAR-MONTH-DAY" in response.content.decode()


def test_future_as_of_is_a_400(client, letter):
    response = client.get("/letters/civic-space/?as_of=2999-01-01")
    assert response.status_code == 400
    assert "has not happened yet" in response.content.decode()


def test_a_day_before_the_letter_opened_gives_an_empty_list_with_a_message(client, letter):
    letter.opens_at = dt.datetime(2023, 9, 1, 9, tzinfo=dt.UTC)
    letter.save()
    signature_row(letter, make_individual("Early Bird"), signed_at=dt.datetime(2023, 9, 1, 10, tzinfo=dt.UTC))
    response = client.get("/letters/civic-space/?as_of=2023-08-15")
    assert response.status_code == 200
    html = response.content.decode()
    assert "The letter had not yet opened for signatures on 15 August 2023." in html
    assert "Early Bird" not in html


def test_a_day_on_which_nobody_had_signed_says_so(client, letter):
    signature_row(
        letter, make_individual("Later Signer"), signed_at=dt.datetime(2023, 9, 10, 12, tzinfo=dt.UTC)
    )
    html = client.get("/letters/civic-space/?as_of=2023-09-05").content.decode()
    assert "Nobody had signed this letter by the end of 5 September 2023." in html


def test_a_name_with_a_script_tag_is_shown_as_text(client, letter):
    signature_row(
        letter, make_individual("<script>alert('x')</script> Evil", title='<img src=x onerror="alert(1)">')
    )
    signature_row(letter, make_organization("<b>Bold</b> Org", acronym="<i>"))
    html = client.get("/letters/civic-space/").content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Evil" in html
    assert "<img src=x" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; Org (&lt;i&gt;)" in html


def test_raw_html_in_the_letter_body_is_sanitized(client, letter):
    letter.body = (
        'Hello <script>alert(1)</script> [click](javascript:alert(1)) <a href="https://ok.example">ok</a>'
    )
    letter.save()
    html = client.get("/letters/civic-space/").content.decode()
    assert "alert(1)" not in html
    assert "javascript:" not in html
    assert 'href="https://ok.example"' in html


def test_draft_letters_are_404_for_the_public(client):
    make_letter(slug="secret-draft", status=Letter.Status.DRAFT)
    assert client.get("/letters/secret-draft/").status_code == 404


def test_staff_can_preview_a_draft(client):
    make_letter(slug="secret-draft", status=Letter.Status.DRAFT)
    staff = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get("/letters/secret-draft/")
    assert response.status_code == 200
    assert "Draft: only staff can see this page." in response.content.decode()


def test_unknown_letter_is_404(client, db):
    assert client.get("/letters/no-such-letter/").status_code == 404


def test_index_lists_open_letters_then_closed_ones_and_no_drafts(client, db):
    make_letter(title="Closed letter", status=Letter.Status.CLOSED)
    make_letter(title="Open letter", status=Letter.Status.OPEN)
    make_letter(title="Draft letter", status=Letter.Status.DRAFT)
    html = client.get("/").content.decode()
    assert html.index("Open letter") < html.index("Closed letter")
    assert "Draft letter" not in html


def test_post_is_refused(client, letter):
    assert client.post("/letters/civic-space/").status_code == 405


def _fill(letter, n: int) -> None:
    for i in range(n // 2):
        signature_row(letter, make_individual(f"Person {i} Example", title="Title"))
        signature_row(letter, make_organization(f"Organization {i}", acronym=f"O{i}"))


@pytest.mark.parametrize("n", [10, 500])
def test_letter_page_query_count_does_not_grow_with_signatures(
    client, letter, django_assert_max_num_queries, n
):
    _fill(letter, n)
    # The letter, the counts, one query per section, the deliveries (a warm page
    # costs the letter alone: tests/outputs/test_page_cache.py).
    with django_assert_max_num_queries(5):
        response = client.get("/letters/civic-space/")
    assert response.status_code == 200
    assert f"{n // 2} individuals and {n // 2} organizations" in response.content.decode()


def test_footnotes_come_after_the_closing(client, letter):
    letter.body = "First claim.[^1] Second claim.[^2]\n\n[^1]: Source one.\n[^2]: Source two."
    letter.closing = "Sincerely,"
    letter.save()
    html = client.get("/letters/civic-space/").content.decode()
    assert (
        html.index("Second claim.")
        < html.index("Sincerely,")
        < html.index("Source one.")
        < html.index("Source two.")
    )
    assert 'href="#fn:2"' in html
