"""
The language of a public page.

`?lang=<code>` on any public URL chooses the interface language (one of
settings.LANGUAGES); without it a letter's pages are in the letter's own
language and other pages in settings.LANGUAGE_CODE. The letter's text is shown
in that language when it has a ready translation, else in its main language
with a notice. Every other word on the page goes through Django's translation
framework, in `request.LANGUAGE_CODE` (which page caches must key on).
"""

import datetime as dt
import unicodedata
from dataclasses import dataclass, replace
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, QueryDict
from django.utils import translation

from letters.models import Letter, LetterTranslation
from staff.access import is_staff

PARAMETER = "lang"


def supported_language(raw: str | None) -> str | None:
    """The interface language for a code such as "ko", "zh_Hans" or "en-US"; None if we have none."""
    code = (raw or "").strip().lower().replace("_", "-")[:20]
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def interface_language(language: str) -> str:
    """The interface language in which a text in `language` (a Letter.Language) is read."""
    return supported_language(language) or settings.LANGUAGE_CODE


def date_language(letter: Letter) -> str:
    """
    How the active page writes the letter's dates: as the letter's own language
    does (British or US English) on a page in that language, otherwise as the
    page's language does.
    """
    active = translation.get_language() or settings.LANGUAGE_CODE
    return letter.language if interface_language(letter.language) == active else active


def direction(language: str) -> str:
    return "rtl" if translation.get_language_info(language)["bidi"] else "ltr"


def text_direction(text: str) -> str:
    """
    "rtl" or "ltr" by the first letter of `text` (the rule of dir="auto"), worked
    out here because WeasyPrint ignores dir="auto": a Latin name in an Arabic
    list stays in reading order, an Arabic name in an English one too.
    """
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in {"R", "AL"}:
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def requested_language(request: HttpRequest) -> str | None:
    return supported_language(request.GET.get(PARAMETER))


class LanguageMiddleware:
    """
    Activates the language a visitor asked for with ?lang=, for the whole
    request (error pages too), and keeps it through our own redirects.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        requested = requested_language(request)
        request.language_requested = requested is not None
        activate(request, requested or settings.LANGUAGE_CODE)
        response = self.get_response(request)
        location = response.headers.get("Location", "")
        local = location.startswith("/") and not location.startswith("//")
        if requested and local and f"{PARAMETER}=" not in location:
            separator = "&" if "?" in location else "?"
            response.headers["Location"] = f"{location}{separator}{PARAMETER}={request.LANGUAGE_CODE}"
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        translation.deactivate()
        return response


def activate(request: HttpRequest, language: str) -> None:
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()


def activate_for_letter(request: HttpRequest, letter: Letter, default: str = "") -> "LetterVersions":
    """
    A page of `letter`: in the language asked for, else in `default` (e.g. the
    language a signer signed in), else in the letter's own.
    """
    language = requested_language(request) or interface_language(default or letter.language)
    activate(request, language)
    versions = LetterVersions(letter, request.LANGUAGE_CODE, include_drafts=is_staff(request))
    request.letter_versions = versions
    return versions


class LetterText:
    """The words of a letter as one page shows them: the letter's own or a translation's (read lazily)."""

    FIELDS = ("language", "title", "subject", "salutation", "body_text_html", "footnotes_html", "closing")

    def __init__(self, source: Letter | LetterTranslation) -> None:
        self.source = source

    @classmethod
    def of(cls, source: Letter | LetterTranslation) -> "LetterText":
        return cls(source)

    def __getattr__(self, name: str):
        if name in self.FIELDS:
            return getattr(self.source, name)
        raise AttributeError(name)

    @property
    def is_draft(self) -> bool:
        return getattr(self.source, "status", "") == LetterTranslation.Status.DRAFT

    @property
    def dir(self) -> str:
        return direction(interface_language(self.source.language))


@dataclass(frozen=True)
class Link:
    language: str
    name: str
    url: str
    absolute_url: str  # for <link rel="alternate" hreflang>, which search engines want absolute
    current: bool


class LetterVersions:
    """A letter's main text and its translations, seen from a page in `language`."""

    def __init__(self, letter: Letter, language: str, *, include_drafts: bool = False) -> None:
        self.letter = letter
        self.language = language
        self.include_drafts = include_drafts

    @cached_property
    def translations(self) -> dict[str, LetterTranslation]:
        """Interface language → translation; no query for a letter known to have none."""
        if not getattr(self.letter, "has_translations", True):  # 0 or False from the letter query
            return {}
        translations = self.letter.translations.order_by("language")
        if not self.include_drafts:
            translations = translations.ready()
        return {interface_language(t.language): t for t in translations}

    @property
    def main_language(self) -> str:
        return interface_language(self.letter.language)

    @cached_property
    def text(self) -> LetterText:
        if self.language != self.main_language and self.language in self.translations:
            return LetterText.of(self.translations[self.language])
        return LetterText.of(self.letter)

    @property
    def is_missing(self) -> bool:
        """The page's language has no version of the letter: the main text is shown instead."""
        return interface_language(self.text.language) != self.language

    @property
    def dir(self) -> str:
        return direction(self.language)

    @property
    def translated_language(self) -> str:
        """The page's language when it is not the letter's own (file names say it), else ""."""
        return "" if self.language == self.main_language else self.language

    @property
    def languages(self) -> list[str]:
        return [self.main_language, *(code for code in self.translations if code != self.main_language)]

    @property
    def cache_key(self) -> str:
        """Part of the key of anything rendered from this version (the PDF, the Word file)."""
        text = self.translations.get(self.language) if self.language != self.main_language else None
        stamp = text.updated_at.isoformat() if text else self.letter.updated_at.isoformat()
        return f"{self.language}:{text.pk if text else 'main'}:{stamp}"

    def links(self, request: HttpRequest) -> list[Link]:
        # The letter's own text is in its own variant of the language ("en-us"): hreflang and lang say so.
        return [
            replace(link, language=self.letter.language) if link.language == self.main_language else link
            for link in language_links(request, self.languages, self.language)
        ]


def with_texts(letters, language: str) -> list[Letter]:
    """
    Letters for a list, each with `text`: its words in `language` where a ready
    translation has them, else its own. One query for all the translations.
    """
    letters = list(letters.prefetch_related(Prefetch("translations", LetterTranslation.objects.ready())))
    for letter in letters:
        translated = [t for t in letter.translations.all() if interface_language(t.language) == language]
        own = interface_language(letter.language) == language or not translated
        letter.text = LetterText.of(letter if own else translated[0])
    return letters


# What a page in another language keeps of this one's query: the parameters our
# pages read, nothing a visitor made up (pages are cached and shared).
KEPT_PARAMETERS = ("as_of", "paper", "page", "as")


def url_in(request: HttpRequest, language: str | None) -> str:
    """This page's address in another language (None: without ?lang=)."""
    query = QueryDict(mutable=True)
    for name in KEPT_PARAMETERS:
        if name in request.GET:
            query[name] = request.GET[name][:20]
    if language:
        query[PARAMETER] = language
    return f"{request.path}?{query.urlencode()}".rstrip("?")


def language_links(request: HttpRequest, languages: list[str], current: str) -> list[Link]:
    names = dict(settings.LANGUAGES)
    links = []
    for code in languages:
        url = url_in(request, code)
        links.append(Link(code, names[code], url, site_url(url), code == current))
    return links


def context(request: HttpRequest) -> dict:
    """Template context: the page's <html lang dir>, its other languages and how links keep the language."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    versions: LetterVersions | None = getattr(request, "letter_versions", None)
    if versions is not None:
        links = versions.links(request)
    else:
        links = language_links(request, [code for code, _ in settings.LANGUAGES], language)
    keep = urlencode({PARAMETER: language}) if getattr(request, "language_requested", False) else ""
    return {
        # Without ?lang=: a letter's page in its own language, any other in LANGUAGE_CODE.
        "x_default_url": site_url(url_in(request, None)),
        "page_language": language,
        "page_dir": direction(language),
        "language_links": links,
        "versions": versions,
        # Appended to our own links so that the visitor stays in the language they chose.
        "lang_q": f"?{keep}" if keep else "",
        "lang_amp": f"&{keep}" if keep else "",
    }


def site_url(path: str) -> str:
    """
    `path` on this site, absolute, from settings.SITE_URL: never from the
    request's Host header, which a stranger chooses and a cached page would
    then serve to everyone.
    """
    return f"{settings.SITE_URL.rstrip('/')}{path}"


def zone_words(zone: dt.tzinfo, moment: dt.datetime | None = None) -> str:
    """
    A letter's zone as every page names it, public or staff: "Seoul time (KST)",
    the city of its name and its abbreviation at `moment` (now by default);
    "UTC" alone. Not "Asia/Seoul" on one page and "KST" on another.
    """
    local = (moment or dt.datetime.now(dt.UTC)).astimezone(zone)
    short = local.tzname() or ""
    short = f"UTC{short}" if short[:1] in {"+", "-"} else short
    name = str(getattr(zone, "key", zone))
    if "/" not in name:
        return short or name
    city = name.rsplit("/", 1)[-1].replace("_", " ")
    return translation.gettext("%(city)s time (%(abbreviation)s)") % {"city": city, "abbreviation": short}
