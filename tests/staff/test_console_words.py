"""The console speaks an organizer's language, not Django's (issue "An organizer runs a letter…")."""

import datetime as dt

import pytest

from letters.models import Letter, LetterTranslation, Signature
from letters.outputs.deliveries import delivery_record
from tests.factories import letter_form_data, make_individual, make_letter, signature_row

pytestmark = pytest.mark.django_db


def test_the_dashboard_leads_to_a_new_letter_and_the_duplicates(staff_client):
    html = staff_client.get("/admin/").content.decode()

    assert '<a class="button" href="/admin/letters/letter/add/">New letter</a>' in html
    assert 'href="/admin/signatories/individual/duplicates/">Duplicates: people</a>' in html
    assert 'href="/admin/signatories/organization/duplicates/">Duplicates: organizations</a>' in html


def test_a_moderator_is_not_offered_a_new_letter(moderator_client):
    html = moderator_client.get("/admin/").content.decode()

    assert "New letter" not in html


def test_lockouts_devices_and_task_results_are_for_superusers_only(client, staff, django_user_model):
    from django.contrib.auth.models import Permission

    organizer = django_user_model.objects.create_user("org", "org@example.org", "pw", is_staff=True)
    organizer.user_permissions.set(Permission.objects.all())
    client.force_login(organizer)

    html = client.get("/admin/").content.decode()
    for label in ("Axes", "TOTP", "Task"):
        assert f">{label}" not in html, label
    assert client.get("/admin/axes/").status_code == 404

    client.force_login(staff)  # a superuser still sees them
    assert ">Axes" in client.get("/admin/").content.decode()


def test_a_merged_duplicate_is_not_counted_as_rejected(staff_client, letter):
    kept = signature_row(letter, make_individual("Jane Doe"))
    signature_row(
        letter,
        make_individual("Jane Doe"),
        status=Signature.Status.REJECTED,
        signed_at=None,
        merged_into=kept,
    )

    html = staff_client.get("/admin/").content.decode()
    card = html[html.index(f'id="letter-{letter.slug}"') :]
    card = card[: card.index("</section>")]

    assert "<strong>0</strong> rejected" in card


def test_the_delivery_names_its_fingerprint_in_plain_words(staff_client, letter):
    signature_row(letter, make_individual("Jane Doe"))
    delivery = delivery_record(letter=letter, as_of=dt.date(2023, 9, 21), recipient="The Minister")

    html = staff_client.get(f"/admin/letters/delivery/{delivery.pk}/change/").content.decode()

    assert "PDF fingerprint (SHA-256)" in html
    assert "Pdf sha256" not in html


def test_translations_are_headed_by_their_language_and_a_draft_says_so(staff_client, letter):
    LetterTranslation.objects.create(
        letter=letter, language=Letter.Language.KO, title="시민 공간", body="본문"
    )
    url = f"/admin/letters/letter/{letter.pk}/change/"

    html = staff_client.get(url).content.decode()
    assert "Korean translation" in html
    assert "Letter translation:" not in html

    [translation] = LetterTranslation.objects.all()
    data = letter_form_data(letter) | {
        "translations-TOTAL_FORMS": "1",
        "translations-INITIAL_FORMS": "1",
        "translations-0-id": str(translation.pk),
        "translations-0-letter": str(letter.pk),
        "translations-0-language": "ko",
        "translations-0-status": "draft",
        "translations-0-title": "시민 공간을 지켜주세요",
        "translations-0-subject": "",
        "translations-0-salutation": "",
        "translations-0-body": "본문",
        "translations-0-closing": "",
    }
    response = staff_client.post(url, data, follow=True)
    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("Korean translation is saved as a draft" in m for m in messages), messages


def test_the_letter_page_says_printed_names_stay_after_the_purge(staff_client):
    letter = make_letter(status=Letter.Status.CLOSED, closes_at=dt.datetime(2023, 9, 30, tzinfo=dt.UTC))

    html = staff_client.get(f"/admin/letters/letter/{letter.pk}/change/").content.decode()

    assert "names and notes" not in html
    assert "The names printed on the list stay on it, in its PDFs and in its deliveries." in html


def test_the_merge_page_says_in_plain_words_what_happens_to_duplicates(staff_client, letter):
    jane, twin = make_individual("Jane Doe"), make_individual("Jane Doe")
    signature_row(letter, jane)
    signature_row(letter, twin)

    html = staff_client.get(
        f"/admin/signatories/individual/merge/?ids={jane.pk},{twin.pk}&keep={jane.pk}"
    ).content.decode()

    assert "retired as a duplicate" not in html
    assert "as the duplicates it stands for were" not in html
    assert "stands on the list in its place. It leaves every list and stays in the history." in html
    assert "the same days as its duplicates, so no day’s list changes" in html


def test_the_organizers_guide_is_in_the_console_with_its_pictures(staff_client, client):
    html = staff_client.get("/admin/guide/").content.decode()

    assert '<h2 id="a-letter-from-start-to-finish">A letter from start to finish</h2>' in html
    assert '<img alt="The dashboard' in html and 'src="img/dashboard.png"' in html
    picture = staff_client.get("/admin/guide/img/dashboard.png")
    assert (picture.status_code, picture["Content-Type"]) == (200, "image/png")
    assert staff_client.get("/admin/guide/img/..%2Fsettings.py").status_code == 404
    assert staff_client.get("/admin/guide/img/missing.png").status_code == 404
    client.logout()
    assert client.get("/admin/guide/").status_code == 302  # staff only
