"""The sign-on period: a circulating letter is signed through its private link only, until its deadline."""

import datetime as dt
import io
import logging
import re
import zoneinfo
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import get_resolver
from django.utils import timezone

from letters.admin.digest import send_digest
from letters.lifecycle.retention import personal_data_purge
from letters.models import DigestSubscription, Letter, LetterTranslation, Signature
from tests.factories import make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db

SEOUL = "Asia/Seoul"


def circulating(**fields) -> Letter:
    fields = {"slug": "quiet", "title": "A quiet letter", "status": Letter.Status.CIRCULATING} | fields
    return make_letter(**fields)


def letter_urls(slug: str) -> list[str]:
    """Every route of letters/urls.py that names a letter, filled in for `slug`."""
    urls = []
    for pattern in get_resolver().url_patterns[-1].url_patterns:
        route = str(pattern.pattern)
        if "<slug:slug>" in route:
            urls.append("/" + route.replace("<slug:slug>", slug).replace("<int:number>", "1"))
    return urls


def individual(**fields):
    return {
        "name": "Lee Yanghee",
        "country": "KR",
        "email": "lee@example.org",
        "public_consent": "on",
    } | fields


def test_a_stranger_gets_404_from_every_url_of_a_circulating_letter(client):
    letter = circulating()
    urls = letter_urls(letter.slug)
    assert len(urls) >= 12
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.get(url, {"key": "guess"}).status_code == 404, url
    assert letter.slug not in client.get("/").content.decode()


def test_a_wrong_key_is_the_404_of_a_letter_that_does_not_exist(client):
    letter = circulating()
    wrong = client.get(f"/letters/{letter.slug}/sign/", {"key": "x" * 32})
    missing = client.get("/letters/no-such-letter/sign/", {"key": "x" * 32})
    assert wrong.status_code == missing.status_code == 404
    assert wrong.content.replace(b"quiet", b"") == missing.content.replace(b"no-such-letter", b"")
    assert wrong.headers["Cache-Control"] == missing.headers["Cache-Control"]
    assert "no-store" in wrong.headers["Cache-Control"]


def test_too_many_wrong_keys_get_429(client, settings):
    settings.PRIVATE_LINK_RATE_LIMIT = "3/h"
    letter = circulating()
    codes = [client.get(f"/letters/{letter.slug}/sign/", {"key": f"k{n}"}).status_code for n in range(4)]
    assert codes == [404, 404, 404, 429]


def test_staff_see_a_circulating_letter(staff_client):
    letter = circulating()
    assert staff_client.get(letter.get_absolute_url()).status_code == 200


def test_the_private_link_opens_the_letter_and_its_form_privately(client):
    letter = circulating(timezone=SEOUL, sign_by=dt.datetime(2023, 9, 20, 9, 0, tzinfo=dt.UTC))
    with mock.patch("django.utils.timezone.now", return_value=dt.datetime(2023, 9, 19, tzinfo=dt.UTC)):
        response = client.get(letter.private_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "We write to you." in html  # the letter's text
    assert "Sign by 20 September 2023, 18:00 KST" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    assert "og:url" not in html and "Share this letter" not in html and "sharer" not in html


def test_a_signer_with_the_link_signs_and_confirms(post, client, caplog):
    letter = circulating(requires_approval=False)
    caplog.set_level(logging.DEBUG)
    response = post(letter.private_url(), individual())
    assert response.status_code == 302
    assert f"key={letter.private_key}" in response.url  # the thanks page is behind the key too
    assert client.get(response.url).status_code == 200
    signature = Signature.objects.get(letter=letter)
    link = re.search(r"/confirm/[^/\s]+/", mail.outbox[0].body).group(0)
    post(link, {})
    signature.refresh_from_db()
    assert signature.status == Signature.Status.APPROVED
    assert letter.private_key not in caplog.text
    assert letter.private_key not in mail.outbox[0].body


def test_the_deadline_refuses_signatures_and_says_whom_to_write_to(post, client):
    letter = circulating(timezone=SEOUL, sign_by=timezone.now() - dt.timedelta(minutes=1))
    response = client.get(letter.private_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "The time to sign this letter ended on" in html
    assert "write to the organizers who sent you the link" in html
    assert post(letter.private_url(), individual()).status_code == 403
    assert not Signature.objects.exists()


def test_staff_extend_the_deadline_and_the_link_takes_signatures_again(post):
    letter = circulating(sign_by=timezone.now() - dt.timedelta(minutes=1))
    letter.sign_by = timezone.now() + dt.timedelta(days=1)
    letter.save()
    assert post(letter.private_url(), individual()).status_code == 302
    assert Signature.objects.filter(letter=letter).count() == 1


def test_a_renewed_key_closes_the_old_link(client):
    letter = circulating()
    old = letter.private_url()
    letter.private_key_renew()
    assert client.get(old).status_code == 404
    assert client.get(letter.private_url()).status_code == 200


def test_the_letter_turns_public_at_publish_at_with_nothing_run_in_between(client):
    moment = dt.datetime(2023, 9, 21, 0, 0, tzinfo=dt.UTC)  # 09:00 in Seoul
    letter = circulating(timezone=SEOUL, publish_at=moment)
    before, after = moment - dt.timedelta(seconds=1), moment + dt.timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=before):
        response = client.get(letter.get_absolute_url())
        assert response.status_code == 404
        assert "no-store" in response.headers["Cache-Control"]  # no cache keeps it past the moment
        assert client.get("/").content.decode().count("A quiet letter") == 0
    with mock.patch("django.utils.timezone.now", return_value=after):
        response = client.get(letter.get_absolute_url())
        assert response.status_code == 200
        assert "Open for signatures." in response.content.decode()
        assert "A quiet letter" in client.get("/").content.decode()
        assert client.get(f"/letters/{letter.slug}/signatories.json").status_code == 200
        # The key no longer opens anything special: the page is the public one.
        assert client.get(letter.private_url()).status_code == 200
    letter.refresh_from_db()
    assert letter.status == Letter.Status.OPEN  # as read: nothing was written
    assert Letter.objects.filter(pk=letter.pk, status=Letter.Status.CIRCULATING).exists()


def test_the_key_is_in_no_share_link_or_open_graph_tag_once_public(client):
    letter = circulating(publish_at=timezone.now() - dt.timedelta(seconds=1))
    html = client.get(letter.get_absolute_url()).content.decode()
    assert "og:url" in html
    assert letter.private_key not in html


def test_the_dashboard_shows_circulating_letters_with_their_moments(staff_client):
    circulating(
        sign_by=dt.datetime(2023, 9, 20, 9, 0, tzinfo=dt.UTC),
        publish_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
    )
    html = staff_client.get("/admin/").content.decode()
    assert "Circulating privately" in html and "A quiet letter" in html
    # In the letter's zone (New York), as every time in the staff panel.
    assert "signatures until 20 Sep 2023, 05:00 EDT" in html
    assert "published by itself at 31 Dec 2098, 19:00 EST" in html
    assert "No invitations yet" in html


def test_a_letter_past_publish_at_is_open_to_every_query_by_status():
    published = circulating(slug="published", publish_at=timezone.now() - dt.timedelta(seconds=1))
    waiting = circulating(slug="waiting", publish_at=timezone.now() + dt.timedelta(days=1))
    make_letter(slug="draft", status=Letter.Status.DRAFT)
    open_ = set(Letter.objects.with_status(Letter.Status.OPEN).values_list("slug", flat=True))
    still = set(Letter.objects.with_status(Letter.Status.CIRCULATING).values_list("slug", flat=True))
    assert published.slug in open_ and waiting.slug not in open_
    assert still == {waiting.slug}
    assert set(Letter.objects.public().values_list("slug", flat=True)) == {published.slug}


def test_the_digest_covers_a_letter_that_became_open_at_publish_at(staff, mailoutbox):

    letter = circulating(publish_at=timezone.now() - dt.timedelta(hours=1))
    signature_row(letter, make_individual(), status=Signature.Status.CONFIRMED, submitted_at=timezone.now())
    DigestSubscription.objects.create(user=staff)
    assert send_digest.call(user_id=staff.pk) == 1
    assert "A quiet letter" in mailoutbox[0].subject


def test_retention_counts_from_the_closing_of_a_letter_published_at_its_moment(settings):

    settings.RETENTION_DAYS = 30
    ago = timezone.now() - dt.timedelta(days=40)
    letter = circulating(publish_at=ago, closes_at=ago + dt.timedelta(days=1))
    signature = signature_row(letter, make_individual(), contact_email="jane@example.org")
    assert personal_data_purge().letters == [letter]
    signature.refresh_from_db()
    assert signature.contact_email == ""


def test_the_language_switcher_keeps_the_private_key(client):
    letter = circulating()
    LetterTranslation.objects.create(
        letter=letter, language="fr", status=LetterTranslation.Status.READY, title="Une lettre", body="Texte."
    )
    html = client.get(letter.private_url()).content.decode()
    switch = re.search(r'<a href="([^"]+)" hreflang="fr"', html).group(1).replace("&amp;", "&")
    assert f"key={letter.private_key}" in switch
    response = client.get(switch)
    assert response.status_code == 200
    assert "Une lettre" in response.content.decode()


def test_the_demo_runs_the_sign_on_period_to_09_00_in_seoul(tmp_path, settings, client):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    letter = Letter.objects.get(slug="civic-participation-hearings")
    assert letter.is_circulating() and letter.sign_by is not None
    publish = letter.publish_at.astimezone(zoneinfo.ZoneInfo(SEOUL))
    assert (publish.hour, publish.minute) == (9, 0) and publish > letter.sign_by
    assert letter.invitations.counts() == {"invited": 6, "signed": 3, "declined": 1, "no_answer": 2}
    assert client.get(letter.get_absolute_url()).status_code == 404
    with mock.patch("django.utils.timezone.now", return_value=letter.publish_at + dt.timedelta(seconds=1)):
        html = client.get(letter.get_absolute_url()).content.decode()
    assert "Front Line Solidarity" in html and "Civic Space Watch" not in html
