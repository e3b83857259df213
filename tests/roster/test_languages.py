"""One letter, many languages: ?lang= on every public page, translations, every output in each language."""

import datetime as dt
import io
import re
import subprocess
import time
import unicodedata
from html import escape
from unittest import mock

import docx
import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import translation
from pypdf import PdfReader

from letters.models import Correction, Letter, LetterTranslation, Signature
from letters.outputs.deliveries import delivery_record
from letters.rosters import Roster
from letters.signing import notices, tasks
from letters.signing.tokens import make_confirm_token, make_correction_token, make_manage_token
from tests.factories import (
    make_individual,
    make_letter,
    make_organization,
    sign_in_several_scripts,
    signature_row,
)

# Alternate links are built from the configured site, never the request's host.
SITE_URL = settings.SITE_URL

pytestmark = pytest.mark.django_db

LANGUAGES = ["en-gb", "fr", "es", "de", "pt", "ko", "zh-hans", "ja", "ar"]
# How each language writes 21 September 2023 (the heading's "as of" day).
DAYS = {
    "en-gb": "21 September 2023",
    "fr": "21 septembre 2023",
    "es": "21 de septiembre de 2023",
    "de": "21. September 2023",
    "pt": "21 de setembro de 2023",
    "ko": "2023년 9월 21일",
    "zh-hans": "2023年9月21日",
    "ja": "2023年9月21日",
    "ar": "21 سبتمبر 2023",
}
AS_OF = "as_of=2023-09-21"
NAMES = ["Lee Yanghee", "이양희", "فاطمة الزهراء العلوي", "Tomás Ojea-Quintana"]


@pytest.fixture
def signed(letter):
    return sign_in_several_scripts(letter)


@pytest.fixture
def translated(signed):
    for language, title, body in [
        ("ko", "시민 공간을 지켜 주십시오", "우리는 귀하께 글을 씁니다.[^1]\n\n[^1]: 각주입니다."),
        ("fr", "Protéger l’espace civique", "Nous vous écrivons.[^1]\n\n[^1]: Une note."),
    ]:
        LetterTranslation.objects.create(
            letter=signed,
            language=language,
            status=LetterTranslation.Status.READY,
            title=title,
            subject="—",
            salutation="—",
            body=body,
        )
    LetterTranslation.objects.create(
        letter=signed, language="de", title="Entwurf: Zivilgesellschaft schützen", body="Noch nicht fertig."
    )
    return signed


def expected(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def roster_names(letter: Letter) -> list[str]:
    return [entry.display_name for entry in Roster(letter, dt.date(2023, 9, 21)).entries()]


def heading(language: str) -> str:
    return expected(language, "Signatory organizations and individuals (as of %(day)s)") % {
        "day": DAYS[language]
    }


def test_every_language_has_its_own_catalogue():
    for language in LANGUAGES[1:]:
        assert expected(language, "Individuals") != "Individuals", language


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_letter_page_is_in_each_language(client, signed, language):
    html = client.get(f"/letters/civic-space/?{AS_OF}&lang={language}").content.decode()
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html
    assert heading(language) in html
    assert expected(language, "Sign this letter") in html
    assert f'href="/letters/civic-space/sign/?lang={language}"' in html
    # One roster, the names as signed, in the same order in every language.
    positions = [html.index(name) for name in roster_names(signed)]
    assert positions == sorted(positions)


def test_counts_use_each_languages_plural(client, signed):
    korean = client.get(f"/letters/civic-space/?{AS_OF}&lang=ko").content.decode()
    assert "개인 4명, 단체 1곳" in korean
    french = client.get(f"/letters/civic-space/?{AS_OF}&lang=fr").content.decode()
    assert "4 personnes et 1 organisation" in french
    arabic = client.get(f"/letters/civic-space/?{AS_OF}&lang=ar").content.decode()
    assert "4 أفراد و1 منظمة" in arabic


def test_a_french_letter_without_translations_has_no_english_heading(client):
    french = make_letter(slug="lettre", language=Letter.Language.FR, title="Protéger l’espace civique")
    signature_row(french, make_individual("Jean-Baptiste Élie"))
    signature_row(french, make_organization("Ligue des droits de l’Homme"))
    html = client.get(f"/letters/lettre/?{AS_OF}").content.decode()
    assert '<html lang="fr" dir="ltr">' in html
    assert "Organisations et personnes signataires (au 21 septembre 2023)" in html
    assert '<h3 class="roster-section-heading">Personnes</h3>' in html
    text = re.sub(r"<[^>]*>", " ", html)
    for english in ["Signatory", "Individuals", "Organizations", "as of", "individual", "Sign this letter"]:
        assert english not in text, english
    # A letter in its own language says nothing about a missing version.
    assert "version-notice" not in html


def test_a_letter_in_us_english_keeps_its_dates_on_its_own_page(client):
    make_letter(slug="us", language=Letter.Language.EN_US)
    html = client.get(f"/letters/us/?{AS_OF}").content.decode()
    assert "(as of September 21, 2023)" in html
    # Seen in French, the page writes dates as French does.
    assert "(au 21 septembre 2023)" in client.get(f"/letters/us/?{AS_OF}&lang=fr").content.decode()


def test_a_translation_shows_its_own_text_and_the_same_roster(client, translated):
    html = client.get(f"/letters/civic-space/?{AS_OF}&lang=ko").content.decode()
    assert '<h1 lang="ko" dir="ltr">시민 공간을 지켜 주십시오</h1>' in html
    assert "우리는 귀하께 글을 씁니다." in html and "We write to you." not in html
    assert "version-notice" not in html
    positions = [html.index(name) for name in roster_names(translated)]
    assert positions == sorted(positions)


def test_without_a_translation_the_page_says_so_and_shows_the_main_text(client, translated):
    html = client.get(f"/letters/civic-space/?{AS_OF}&lang=ja").content.decode()
    assert '<html lang="ja" dir="ltr">' in html
    assert "この書簡には日本語版がありません。" in html
    assert '<article class="letter-text" lang="en-gb" dir="ltr">' in html
    assert "We write to you." in html


def test_the_print_version_and_word_document_without_a_translation_say_so_as_the_page_does(
    client, translated
):
    # A journalist printing the Japanese version got Japanese headings around an English letter, unexplained.
    html = client.get(f"/letters/civic-space/print/?{AS_OF}&lang=ja").content.decode()
    assert "この書簡には日本語版がありません。" in html
    assert '<article class="letter-text" lang="en-gb" dir="ltr">' in html
    texts = [
        p.text
        for p in word_paragraphs(client.get(f"/letters/civic-space/letter.docx?{AS_OF}&lang=ja").content)
    ]
    assert any(text.startswith("この書簡には日本語版がありません。") for text in texts)
    # A version that exists says nothing.
    html = client.get(f"/letters/civic-space/print/?{AS_OF}&lang=ko").content.decode()
    assert "version-notice" not in html


def test_a_draft_translation_is_for_staff_only(staff_client, translated):
    visitor = Client()
    assert "Entwurf" not in visitor.get("/letters/civic-space/?lang=de").content.decode()
    assert 'hreflang="de"' not in visitor.get("/letters/civic-space/").content.decode()
    html = staff_client.get("/letters/civic-space/?lang=de").content.decode()
    assert "Entwurf: Zivilgesellschaft schützen" in html
    assert "Übersetzungsentwurf" in html


def test_each_page_links_its_other_versions(client, translated):
    html = client.get("/letters/civic-space/?lang=ko").content.decode()
    assert (
        f'<link rel="alternate" hreflang="en-gb" href="{SITE_URL}/letters/civic-space/?lang=en-gb">' in html
    )
    assert f'<link rel="alternate" hreflang="fr" href="{SITE_URL}/letters/civic-space/?lang=fr">' in html
    assert 'hreflang="ko" href' not in html.split("</head>")[0]  # not itself
    assert f'<link rel="alternate" hreflang="x-default" href="{SITE_URL}/letters/civic-space/">' in html
    # The visible switcher offers the same versions, the current one marked.
    assert '<span aria-current="true" lang="ko">한국어</span>' in html
    assert '<a href="/letters/civic-space/?lang=fr" hreflang="fr" lang="fr">Français</a>' in html
    # The query string is kept: the same day in another language.
    html = client.get(f"/letters/civic-space/?{AS_OF}&lang=ko").content.decode()
    assert f'href="/letters/civic-space/?{AS_OF}&amp;lang=fr"' in html


def test_the_arabic_page_is_right_to_left_with_names_isolated(client, signed):
    html = client.get(f"/letters/civic-space/?{AS_OF}&lang=ar").content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert '<span class="entry-name" dir="ltr">Tomás Ojea-Quintana</span>' in html
    assert '<span class="entry-title" dir="ltr">Former UN Special Rapporteur</span>' in html
    assert '<span class="entry-name" dir="rtl">فاطمة الزهراء العلوي</span>' in html
    # The English letter text keeps its own direction inside the Arabic page.
    assert '<article class="letter-text" lang="en-gb" dir="ltr">' in html
    print_html = client.get(f"/letters/civic-space/print/?{AS_OF}&lang=ar").content.decode()
    assert '<html lang="ar" dir="rtl"' in print_html


def test_an_unknown_language_falls_back_to_the_letters_own(client, signed):
    response = client.get("/letters/civic-space/?lang=xx-nope")
    assert response.status_code == 200
    assert '<html lang="en-gb"' in response.content.decode()


def test_a_translated_letter_page_costs_one_more_query(client, translated, django_assert_max_num_queries):
    # As tests/roster/test_letter_page.py counts (the letter, the counts, a query per
    # section, the deliveries), and the letter's translations: the letter query already said it has some.
    with django_assert_max_num_queries(6):
        response = client.get("/letters/civic-space/?lang=ko")
    assert response.status_code == 200


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_print_version_is_in_each_language(client, signed, language):
    html = client.get(f"/letters/civic-space/print/?{AS_OF}&lang={language}").content.decode()
    assert f'<html lang="{language}"' in html
    assert heading(language) in html
    assert f'<h3 class="roster-section-heading">{expected(language, "Organizations")}</h3>' in html


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text))


@pytest.mark.slow
def test_the_pdf_is_in_each_language_with_its_fonts_embedded(client, translated, tmp_path):
    for language in LANGUAGES:
        response = client.get(f"/letters/civic-space/letter.pdf?{AS_OF}&lang={language}")
        assert response.status_code == 200, language
        text = pdf_text(response.content, tmp_path)
        if language != "ar":  # pdftotext gives Arabic in visual order
            assert heading(language) in text, language
        for page in PdfReader(io.BytesIO(response.content)).pages:
            for font in page["/Resources"]["/Font"].values():
                descriptor = (
                    font.get_object().get("/DescendantFonts", [font])[0].get_object()["/FontDescriptor"]
                )
                assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), language


@pytest.mark.slow
def test_korean_text_can_be_copied_from_the_korean_pdf(client, translated, tmp_path):
    response = client.get(f"/letters/civic-space/letter.pdf?{AS_OF}&lang=ko")
    assert response["Content-Disposition"] == 'inline; filename="civic-space-as-of-2023-09-21-ko.pdf"'
    text = pdf_text(response.content, tmp_path)
    assert "시민 공간을 지켜 주십시오" in text
    assert "서명 단체 및 개인(2023년 9월 21일 기준)" in text
    assert "개인 4명, 단체 1곳" in text
    # Each language is its own file, never another language's cached copy.
    french = pdf_text(client.get(f"/letters/civic-space/letter.pdf?{AS_OF}&lang=fr").content, tmp_path)
    assert "Protéger l’espace civique" in french and "시민" not in french


def test_editing_a_translation_changes_the_letters_files(client, translated):
    url = f"/letters/civic-space/letter.pdf?{AS_OF}&lang=fr"
    before = client.get(url)["ETag"]
    LetterTranslation.objects.filter(language="fr").get().save()
    assert client.get(url)["ETag"] != before
    # The letter itself counts as changed, for every page cached under it.
    updated = Letter.objects.get(pk=translated.pk).updated_at
    LetterTranslation.objects.get(language="ko").delete()
    assert Letter.objects.get(pk=translated.pk).updated_at > updated


def word_boxes(pdf: bytes, tmp_path) -> dict[str, tuple[float, float, float]]:
    """Each word of the PDF: (left, right, page width), from pdftotext -bbox."""
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    xml = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    width = float(re.search(r'<page width="([0-9.]+)"', xml).group(1))
    words = re.findall(
        r'<word xMin="([0-9.]+)" yMin="[0-9.]+" xMax="([0-9.]+)" yMax="[0-9.]+">([^<]+)</word>', xml
    )
    return {text: (float(left), float(right), width) for left, right, text in words}


@pytest.mark.slow
def test_the_arabic_pdf_is_laid_out_right_to_left(client, signed, tmp_path):
    arabic = word_boxes(client.get(f"/letters/civic-space/letter.pdf?{AS_OF}&lang=ar").content, tmp_path)
    english = word_boxes(client.get(f"/letters/civic-space/letter.pdf?{AS_OF}").content, tmp_path)
    # The first name of the list starts its line at the right margin in Arabic, the left one in English.
    left, right, width = arabic["Asociación"]
    assert left > width / 2
    left, right, width = english["Asociación"]
    assert right < width / 2
    # A Latin name keeps its reading order inside the Arabic page.
    assert arabic["Asociación"][1] < arabic["Pro"][0] < arabic["Derechos"][0]


def test_the_pdf_etag_differs_by_language(client, translated):
    korean = client.get(f"/letters/civic-space/letter.pdf?{AS_OF}&lang=ko")["ETag"]
    french = client.get(f"/letters/civic-space/letter.pdf?{AS_OF}&lang=fr")["ETag"]
    assert korean != french


def word_paragraphs(content: bytes) -> list:
    return docx.Document(io.BytesIO(content)).paragraphs


def right_to_left(paragraph) -> bool:
    return paragraph._p.pPr is not None and paragraph._p.pPr.find(docx.oxml.ns.qn("w:bidi")) is not None


def run_language(run) -> str:
    return run._r.rPr.find(docx.oxml.ns.qn("w:lang")).get(docx.oxml.ns.qn("w:val"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_word_document_is_in_each_language(client, signed, language):
    response = client.get(f"/letters/civic-space/letter.docx?{AS_OF}&lang={language}")
    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    paragraphs = word_paragraphs(response.content)
    texts = [p.text for p in paragraphs]
    assert texts[0] == DAYS[language]  # the date, then the title
    assert texts[1] == "Protect civic space"
    assert heading(language) in texts
    assert expected(language, "Individuals") in texts
    assert "Lee Yanghee\nProfessor, Sungkyunkwan University" in texts
    # The page's date and heading in the page's direction; the letter's English text in its own;
    # each name in its own (as on the print version).
    rtl = [right_to_left(p) for p in paragraphs]
    roster = texts.index(heading(language))
    assert rtl[0] == rtl[roster] == (language == "ar")
    # Under the title, in the page's words: the letter has no version in this language.
    text = 2 if language == "en-gb" else 3
    assert text == 2 or (rtl[2] == (language == "ar") and paragraphs[2].runs[0].italic)
    assert not any(rtl[1:2] + rtl[text:roster])
    names = {p.text.split("\n")[0]: right_to_left(p) for p in paragraphs[roster:]}
    assert names["فاطمة الزهراء العلوي"] and not names["Lee Yanghee"]


def test_the_word_document_gives_the_letters_text_its_own_direction_and_language(client):
    # As the print version does (<article lang dir>): the Word document gave the text the page's.
    make_letter(slug="arabic", language=Letter.Language.AR, title="رسالة مفتوحة", body="نكتب إليكم.")
    make_letter(slug="english", body="We write to you.")
    arabic = word_paragraphs(client.get("/letters/arabic/letter.docx?lang=en-gb").content)
    english = word_paragraphs(client.get("/letters/english/letter.docx?lang=ar").content)
    body = next(p for p in arabic if p.text == "نكتب إليكم.")
    assert right_to_left(body) and run_language(body.runs[0]) == "ar"
    assert not right_to_left(arabic[0])  # the English page's date
    body = next(p for p in english if p.text == "We write to you.")
    assert not right_to_left(body) and run_language(body.runs[0]) == "en-gb"
    assert right_to_left(english[0])  # the Arabic page's date


def test_a_latin_name_keeps_its_closing_bracket_in_the_arabic_word_document(client, signed):
    # A right-to-left paragraph sends the ")" ending "(APDH)" to the far side: "(Asociación … (APDH".
    # Each entry reads in its own direction, as on the print version; the column stays aligned right.
    paragraphs = word_paragraphs(client.get(f"/letters/civic-space/letter.docx?{AS_OF}&lang=ar").content)
    entry = next(p for p in paragraphs if p.text == "Asociación Pro Derechos Humanos (APDH)")
    assert not right_to_left(entry)
    assert entry.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
    arabic = next(p for p in paragraphs if p.text.startswith("فاطمة الزهراء العلوي"))
    assert right_to_left(arabic)
    # And an Arabic name in an English document reads right to left, "(AI)" after it.
    signature_row(signed, make_organization("منظمة العفو", acronym="AI"))
    paragraphs = word_paragraphs(client.get(f"/letters/civic-space/letter.docx?{AS_OF}").content)
    assert right_to_left(next(p for p in paragraphs if p.text == "منظمة العفو (AI)"))
    assert not right_to_left(next(p for p in paragraphs if p.text.startswith("Lee Yanghee")))


def test_the_word_document_is_the_print_version(client, translated):
    translated.body = (
        "We write **to you** about [the law](https://example.org/law).[^1]\n\n"
        "1. withdraw it;\n2. consult us.\n\n[^1]: Draft Law No. 114."
    )
    translated.closing = "Sincerely,"
    translated.save()
    response = client.get(f"/letters/civic-space/letter.docx?{AS_OF}")
    assert response["Content-Disposition"] == 'attachment; filename="civic-space-as-of-2023-09-21.docx"'
    paragraphs = word_paragraphs(response.content)
    texts = [p.text for p in paragraphs]
    assert texts[:4] == [
        "21 September 2023",
        "Protect civic space",
        "Re: The matter at hand",
        "Dear Minister,",
    ]
    body = texts.index("We write to you about the law (https://example.org/law).1")
    assert texts[body + 1 : body + 4] == ["1. withdraw it;", "2. consult us.", "Sincerely,"]
    assert texts[body + 4] == "1. Draft Law No. 114."
    assert any(run.bold and run.text == "to you" for run in paragraphs[body].runs)
    assert any(run.font.superscript and run.text == "1" for run in paragraphs[body].runs)
    # Then the roster, as every output reads it.
    names = roster_names(translated)
    positions = [next(i for i, t in enumerate(texts) if t.split("\n")[0] == name) for name in names]
    assert positions == sorted(positions) and positions[0] > body


def test_the_word_document_refuses_a_bad_day(client, signed):
    response = client.get("/letters/civic-space/letter.docx?as_of=21/09/2023&lang=fr")
    assert response.status_code == 400
    assert "n’est pas une date" in response.content.decode()


def test_output_links_offer_the_word_document_in_the_pages_language(signed, staff_client):
    html = Client().get(f"/letters/civic-space/?{AS_OF}&lang=ko").content.decode()
    assert f'<a href="/letters/civic-space/letter.docx?{AS_OF}&amp;lang=ko">워드 문서</a>' in html
    admin = staff_client.get(f"/admin/letters/letter/{signed.pk}/change/").content.decode()
    assert 'href="/letters/civic-space/letter.docx"' in admin


def test_translations_are_edited_inline_with_a_preview_link(staff_client, translated):
    html = staff_client.get(f"/admin/letters/letter/{translated.pk}/change/").content.decode()
    assert 'name="translations-0-language"' in html
    assert '<a href="/letters/civic-space/?lang=de">Preview the page in this language</a>' in html


def test_a_translation_in_the_letters_own_language_is_refused(translated):
    for language in ["en-gb", "en-us"]:
        copy = LetterTranslation(letter=translated, language=language, title="Same", body="Same")
        with pytest.raises(ValidationError, match="written in this language"):
            copy.full_clean()


def test_a_korean_signer_gets_a_korean_email(post, signed):
    response = post(
        "/letters/civic-space/sign/?lang=ko",
        {
            "kind": "individual",
            "name": "김민지",
            "email": "minji@example.org",
            "public_consent": "on",
        },
    )
    # The thanks page keeps the language.
    assert response["Location"] == "/letters/civic-space/sign/thanks/?as=individual&lang=ko"
    assert Signature.objects.get(individual__name="김민지").language == "ko"
    [message] = mail.outbox
    assert message.subject == "서명을 확인해 주세요: Protect civic space"
    assert re.search(r"/confirm/[^/\s]+/\?lang=ko", message.body)
    assert "서한: http://127.0.0.1:8000/letters/civic-space/?lang=ko" in message.body


def test_a_signers_emails_name_the_letter_by_its_title_in_their_language(post, translated):
    # The Korean form said “시민 공간을 지켜 주십시오”; the e-mails said "Protect civic space" (main title).
    post(
        "/letters/civic-space/sign/?lang=ko",
        {"kind": "individual", "name": "김민지", "email": "minji@example.org", "public_consent": "on"},
    )
    [confirmation] = mail.outbox
    assert confirmation.subject == "서명을 확인해 주세요: 시민 공간을 지켜 주십시오"
    signature = Signature.objects.get(individual__name="김민지")
    tasks.send_links_email.call(letter_id=translated.pk, signature_ids=[signature.pk])
    correction = Correction.objects.create(signature=signature, name="김민지 박사")
    others = [tasks.signature_email(signature, kind, correction_id=correction.pk) for kind in tasks.SUBJECTS]
    for message in [*mail.outbox, *others]:
        assert "시민 공간을 지켜 주십시오" in message.subject
        for text in (message.body, message.alternatives[0].content):
            assert "“시민 공간을 지켜 주십시오”" in text and "Protect civic space" not in text


def test_an_arabic_signers_html_email_is_marked_arabic_and_right_to_left(post, signed):
    # It said <html lang="en">: mail clients laid Arabic out left to right, screen readers read it as English.
    post(
        "/letters/civic-space/sign/?lang=ar",
        {"kind": "individual", "name": "فاطمة", "email": "fatima@example.org", "public_consent": "on"},
    )
    [message] = mail.outbox
    assert '<html lang="ar" dir="rtl">' in message.alternatives[0].content


def test_sign_form_labels_and_errors_are_translated(client, signed):
    response = client.post("/letters/civic-space/sign/?lang=fr", {"kind": "individual", "email": "nope"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Votre nom" in html and "Adresse e-mail" in html
    assert "Ce champ est obligatoire." in html  # Django's own catalogue
    assert "Saisissez une adresse de courriel valide." in html
    assert "Votre signature ne peut être comptée que si vous acceptez sa publication" in html
    assert "Corrigez les champs signalés ci-dessous." in html
    # Country names in the page's language too.
    assert ">Corée du Sud</option>" in html


def test_too_many_attempts_is_said_in_the_visitors_language(client, signed, settings):
    settings.SIGNUP_RATE_LIMIT = "1/h"
    client.post("/letters/civic-space/sign/?lang=ko", {"kind": "individual"})
    response = client.post("/letters/civic-space/sign/?lang=ko", {"kind": "individual"})
    assert response.status_code == 429
    assert "시도 횟수 초과" in response.content.decode()


def test_too_many_attempts_names_the_letter_by_its_title_in_the_pages_language(client, translated, settings):
    # "…write to the organizers of “Protect civic space”" on an otherwise Korean page.
    settings.SIGNUP_RATE_LIMIT = "1/h"
    client.post("/letters/civic-space/sign/?lang=ko", {"kind": "individual"})
    response = client.post("/letters/civic-space/sign/?lang=ko", {"kind": "individual"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "“시민 공간을 지켜 주십시오”" in html and "Protect civic space" not in html


def test_error_pages_are_translated(client, rf):
    html = client.get("/nowhere/?lang=ja").content.decode()
    assert "ページが見つかりません" in html and '<html lang="ja"' in html
    request = rf.get("/")
    with translation.override("ar"):
        html = render_to_string("500.html")
        assert '<html lang="ar" dir="rtl">' in html and "حدث خطأ من جهتنا" in html
        assert "محاولات كثيرة جدًا" in render_to_string("429.html", {}, request=request)
        assert "تعذّر فهم هذا الطلب" in render_to_string("400.html", {}, request=request)


# The sweep: every public page in every language, against the same page in
# English. A visible string identical in both is an untranslated one, unless
# it is the letter's own text, a name, or one of the few words that are the
# same in that language.

SAME_IN_LANGUAGE = {
    "fr": {"Notes", "Site", "PDF (A4)", "E-mail"},
    "es": {"PDF (A4)"},
    "de": {"Website (optional)", "PDF (A4)"},
    "pt": {"Site", "PDF (A4)", "E-mail"},
}
ALWAYS_SAME = {"Undersigned", "JSON"}


class _Text:
    """Visible text and labels of a page, minus anything in the letter's own language or a name (own dir)."""

    SKIP = {"script", "style", "select", "code"}

    def __init__(self, html: str) -> None:
        from html.parser import HTMLParser

        segments: list[str] = []
        stack: list[bool] = []

        class Parser(HTMLParser):
            def handle_starttag(self, tag, attrs):
                attrs = dict(attrs)
                if tag in {"meta", "link", "input", "br", "hr", "img"}:
                    return
                skip = bool(stack and stack[-1]) or tag in _Text.SKIP or "lang" in attrs or "dir" in attrs
                if tag == "html":
                    skip = False
                stack.append(skip)
                if not skip and attrs.get("aria-label"):
                    segments.append(attrs["aria-label"])

            def handle_endtag(self, tag):
                if tag not in {"meta", "link", "input", "br", "hr", "img"} and stack:
                    stack.pop()

            def handle_data(self, data):
                if not (stack and stack[-1]) and data.strip():
                    segments.append(" ".join(data.split()))

        Parser().feed(html)
        self.segments = segments


def untranslated(english: str, other: str, language: str, ignore: list[str]) -> list[str]:
    english_segments = set(_Text(english).segments)
    left = []
    for segment in _Text(other).segments:
        if segment not in english_segments or segment in SAME_IN_LANGUAGE.get(language, set()):
            continue
        rest = segment
        for known in sorted([*ignore, *ALWAYS_SAME], key=len, reverse=True):
            rest = rest.replace(known, "")
        if re.search(r"[A-Za-z]{3,}", rest):
            left.append(segment)
    return left


@pytest.fixture
def every_page(signed, staff):
    """(method, url, data) of every public page a visitor can reach, and the words that are not ours."""
    make_letter(slug="closed", status=Letter.Status.CLOSED, title="A closed letter")
    make_letter(slug="empty", opens_at=dt.datetime(2023, 9, 25, tzinfo=dt.UTC), title="Not yet")
    delivery = delivery_record(
        letter=signed, as_of=dt.date(2023, 9, 21), recipient="The Minister", user=staff
    )
    signature_row(signed, make_individual("Late Signer"), signed_at=dt.datetime(2023, 9, 23, tzinfo=dt.UTC))
    listed = Signature.objects.get(individual__name="Tomás Ojea-Quintana")
    pending = signature_row(
        signed, make_individual("Pat Pending", email="pat@example.org"), status=Signature.Status.PENDING
    )
    correction = Correction.objects.create(signature=listed, name="Tomás Ojea Quintana")
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 30 * 86400):
        expired_correction = make_correction_token(correction.pk)
    slug = "/letters/civic-space"
    pages = [
        ("get", "/", None),
        ("get", f"{slug}/", None),
        ("get", f"{slug}/?{AS_OF}", None),
        ("get", f"{slug}/?as_of=nonsense", None),
        ("get", f"{slug}/?as_of=2999-01-01", None),
        ("get", "/letters/empty/?as_of=2023-09-21", None),
        ("get", f"{slug}/print/?{AS_OF}", None),
        ("get", f"{slug}/embed/", None),
        ("get", f"{slug}/sign/", None),
        ("get", f"{slug}/sign/?as=organization", None),
        ("post", f"{slug}/sign/", {"kind": "individual", "email": "nope"}),
        ("post", f"{slug}/sign/?as=organization", {"kind": "organization"}),
        ("get", f"{slug}/sign/thanks/?as=individual", None),
        ("get", f"{slug}/sign/thanks/?as=organization", None),
        ("get", f"{slug}/sign/new-link/", None),
        ("post", f"{slug}/sign/new-link/", {"email": "someone@example.org"}),
        ("post", f"{slug}/sign/new-link/", {"email": "not an address"}),
        ("get", "/letters/closed/sign/", None),
        ("get", f"{slug}/deliveries/{delivery.number}/", None),
        ("get", f"{slug}/deliveries/{delivery.number}/since/", None),
        ("get", f"{slug}/deliveries/{delivery.number}/since/?as_of=2023-09-01", None),
        ("get", "/no/such/page/", None),
        # The signer's own pages, opened from their e-mails.
        ("get", f"/confirm/{make_confirm_token(pending.pk)}/", None),
        ("get", f"/confirm/{make_confirm_token(listed.pk)}/", None),
        ("get", "/confirm/not-a-token/", None),
        ("post", f"/confirm/{make_confirm_token(pending.pk)}/new-link/", {}),
        ("get", f"/manage/{make_manage_token(listed.pk)}/", None),
        ("get", "/manage/not-a-token/", None),
        ("get", f"/confirm-correction/{expired_correction}/", None),
    ]
    words = [
        "Protect civic space",
        "A closed letter",
        "Not yet",
        "Re: The matter at hand",
        "Dear Minister,",
        "The Minister",
        "Late Signer",
        "Asociación Pro Derechos Humanos (APDH)",
        *NAMES,
        "someone@example.org",
        "nope",
        "not an address",
        "Pat Pending",
        "Professor, Sungkyunkwan University",
        "Former UN Special Rapporteur",
        # Names of services, the same in every language.
        "Bluesky",
        "Facebook",
        "LinkedIn",
        "WhatsApp",
    ]
    return pages, words


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_no_public_page_is_left_in_english(client, every_page, language, settings):
    pages, words = every_page
    for method, url, data in pages:
        separator = "&" if "?" in url else "?"
        send = getattr(client, method)
        english = send(f"{url}{separator}lang=en-gb", data).content.decode()
        other = send(f"{url}{separator}lang={language}", data).content.decode()
        assert english != other, url
        assert untranslated(english, other, language, words) == [], (language, url)
    # The pages a handler renders without a view: too many attempts, and a server error.
    request = RequestFactory().get("/")
    for template in ["429.html", "400.html", "403_csrf.html", "500.html"]:
        with translation.override("en-gb"):
            english = render_to_string(template, {}, request=request)
        with translation.override(language):
            other = render_to_string(template, {}, request=request)
        assert untranslated(english, other, language, words) == [], (language, template)
    # The e-mails to a signer, in the language they signed in.
    settings.SIGNUP_MAIL_PER_ADDRESS = 100
    pending = Signature.objects.get(individual__name="Pat Pending")
    for english, other in zip(signer_emails(pending, "en-gb"), signer_emails(pending, language), strict=True):
        assert untranslated(english, other, language, [*words, "Pat Q. Pending"]) == [], (language, other)


def signer_emails(signature: Signature, language: str) -> list[str]:
    """Every e-mail a signer may get, in `language`: subject and text lines as a page, then the HTML part."""
    signature.language = language
    signature.save(update_fields=["language"])
    correction = Correction.objects.create(signature=signature, name="Pat Q. Pending")
    signature.withdrawn_at = dt.datetime(2023, 9, 21, 12, tzinfo=dt.UTC)  # for the receipt, not saved
    messages = [
        tasks.signature_email(signature, kind, correction_id=correction.pk) for kind in tasks.SUBJECTS
    ]
    messages.append(tasks.signature_email(signature, "already-signed", to="someone@example.org"))
    signature.withdrawn_at = None
    messages.append(notices.approval_notice(signature))  # "you are on the list"
    mail.outbox.clear()
    tasks.send_links_email.call(letter_id=signature.letter_id, signature_ids=[signature.pk])
    messages.extend(mail.outbox)
    pages = []
    for message in messages:
        lines = "".join(f"<p>{escape(line)}</p>" for line in [message.subject, *message.body.splitlines()])
        pages += [f"<html><body>{lines}</body></html>", message.alternatives[0].content]
    return pages


def test_the_sweep_finds_a_string_left_in_english():
    english = "<html><body><h1>Letters</h1><p>Open for signatures</p></body></html>"
    french = "<html><body><h1>Lettres</h1><p>Open for signatures</p></body></html>"
    assert untranslated(english, french, "fr", []) == ["Open for signatures"]


def test_the_demo_letter_can_be_read_in_korean_and_french(client, tmp_path, settings):
    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    call_command("load_demo", stdout=io.StringIO())
    html = client.get("/letters/veltrana-civic-space/").content.decode()
    assert f'hreflang="ko" href="{SITE_URL}/letters/veltrana-civic-space/?lang=ko">' in html
    assert f'hreflang="fr" href="{SITE_URL}/letters/veltrana-civic-space/?lang=fr">' in html
    korean = client.get("/letters/veltrana-civic-space/?lang=ko").content.decode()
    assert "벨트라나의 시민 공간을 지켜 주십시오" in korean and "서명 단체 및 개인" in korean
    french = client.get("/letters/veltrana-civic-space/?lang=fr").content.decode()
    assert (
        "Protéger l’espace civique au Veltrana" in french
        and "Organisations et personnes signataires" in french
    )


def test_the_list_of_letters_shows_their_titles_in_the_pages_language(client, translated):
    make_letter(slug="other", title="Another letter")
    html = client.get("/?lang=ko").content.decode()
    assert (
        '<li lang="ko" dir="ltr"><a href="/letters/civic-space/?lang=ko">시민 공간을 지켜 주십시오</a>'
        in html
    )
    assert '<li lang="en-gb" dir="ltr"><a href="/letters/other/?lang=ko">Another letter</a>' in html
    assert "Protect civic space" in client.get("/").content.decode()


def test_language_links_keep_only_the_pages_own_parameters(client, translated):
    # Pages are cached and shared: a made-up parameter must not end up in everyone's links.
    html = client.get(f"/letters/civic-space/?{AS_OF}&lang=ko&ref=somewhere-else").content.decode()
    assert f'href="/letters/civic-space/?{AS_OF}&amp;lang=fr"' in html
    assert "somewhere-else" not in html


def test_a_us_english_letter_is_named_as_such_in_another_languages_page(client):
    # Its own version was called British English, and its alternate link said hreflang="en-gb".
    letter = make_letter(slug="us", language=Letter.Language.EN_US)
    LetterTranslation.objects.create(
        letter=letter,
        language="fr",
        status=LetterTranslation.Status.READY,
        title="Lettre",
        subject="—",
        salutation="—",
        body="Nous vous écrivons.",
        closing="—",
    )
    html = client.get("/letters/us/?lang=ko").content.decode()
    assert "version-notice" in html
    assert "영어(영국)" not in html and "영어" in html
    assert f'<link rel="alternate" hreflang="en-us" href="{SITE_URL}/letters/us/?lang=en-gb">' in html
    assert 'hreflang="en-gb"' not in html


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en-gb", "Nobody had signed this letter by the end of 1 September 2023."),
        ("fr", "Personne n’avait signé cette lettre à la fin du 1 septembre 2023."),
    ],
)
def test_the_word_document_of_a_day_before_anyone_signed_says_so_as_the_print_version_does(
    client, letter, language, message
):
    signature_row(letter, make_individual("Ivy Person"), dt.datetime(2023, 9, 5, 12, tzinfo=dt.UTC))
    query = f"?as_of=2023-09-01&lang={language}"
    assert message in client.get(f"/letters/civic-space/print/{query}").content.decode()

    paragraphs = word_paragraphs(client.get(f"/letters/civic-space/letter.docx{query}").content)

    assert message in [paragraph.text for paragraph in paragraphs]


def test_the_korean_as_of_banner_says_the_end_of_the_day_plainly(client, letter):
    signature_row(letter, make_individual("Lee Yanghee"))

    html = client.get("/letters/civic-space/?as_of=2023-09-21&lang=ko").content.decode()

    # Was "이것은 … 끝 무렵의" ("around the end of"): a list is as of the end of the day, exactly.
    assert "이 명단은 2023년 9월 21일이 끝난 시점의 서명자 명단으로, 오늘 기준 명단이 아닙니다." in html
    assert "끝 무렵" not in html


def test_country_names_are_the_ones_readers_know(client, letter):
    # django-countries printed "Naoero" for Nauru and, in Korean, "케이맨 섬1" for the Cayman Islands.
    english = client.get("/letters/civic-space/sign/?lang=en-gb").content.decode()
    korean = client.get("/letters/civic-space/sign/?lang=ko").content.decode()

    assert '<option value="NR">Nauru</option>' in english and "Naoero" not in english
    assert '<option value="KY">케이맨 제도</option>' in korean and "케이맨 섬1" not in korean
    assert '<option value="NR">나우루</option>' in korean
