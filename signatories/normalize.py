"""
Normalization of names and e-mail addresses: how signatories are sorted and
how near-duplicates are recognised; and the one rule of what may be printed on
a list (`validate_printed_line`, `validate_printed_name`), which the public
forms, the staff change forms and the import all apply.
"""

import re
import struct
import unicodedata
from functools import cache
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from pyuca import Collator

# Words that follow a family name rather than being one ("Martin Luther King Jr.").
NAME_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "ph.d.", "md", "m.d."}

# Providers known to deliver "j.doe+letters@gmail.com" to "jdoe@gmail.com".
# Gmail ignores dots and everything after "+"; the others only the "+tag".
DOTLESS_PROVIDERS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}
PLUS_TAG_PROVIDERS = {
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "fastmail.com",
    "protonmail.com",
    "proton.me",
    "pm.me",
}

# Mailboxes anyone can open: an address there says nothing about who the signer works for.
FREE_MAIL_PROVIDERS = {
    *DOTLESS_PROVIDERS,
    *PLUS_TAG_PROVIDERS,
    "yahoo.com",
    "yahoo.fr",
    "yahoo.co.uk",
    "aol.com",
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "web.de",
    "mail.com",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "daum.net",
    "hanmail.net",
    "tutanota.com",
    "tuta.io",
    "zoho.com",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "uol.com.br",
    "bol.com.br",
}

_whitespace = re.compile(r"\s+")
_not_word = re.compile(r"[^\w]+")


def clean_text(value: str) -> str:
    """NFC, no surrounding space, inner runs of white space folded to one space."""
    return _whitespace.sub(" ", unicodedata.normalize("NFC", value)).strip()


def has_control_characters(value: str) -> bool:
    """True for C0/C1 controls and bidirectional overrides (but not ordinary spaces)."""
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            return True
        if char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
            return True
    return False


def validate_printed_line(value: str) -> None:
    """A line printed on a list (a title, an acronym): one line, no control or bidi-override characters."""
    if has_control_characters(value):
        raise ValidationError(
            _("Write this on one line, without line breaks or invisible control characters."),
            code="control_characters",
        )


def validate_printed_name(value: str) -> None:
    """A printed name: a printed line with at least one letter or digit."""
    validate_printed_line(value)
    if value and not any(char.isalnum() for char in value):
        # Only punctuation, symbols or invisible characters (a zero-width space)
        # would print as an empty or meaningless line on the list.
        raise ValidationError(_("Enter a name with at least one letter."), code="no_letters")


def name_key(name: str) -> str:
    """
    The key under which two organization or person names count as the same:
    case, accents, punctuation and "&" versus "and" are ignored.
    """
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("&", " and ")
    text = _not_word.sub(" ", text).replace("_", " ")
    return _whitespace.sub(" ", text).strip()


def canonical_email(email: str) -> str:
    """The address as a mailbox: case-folded, and for known providers without dots or +tags."""
    email = email.strip().casefold()
    local, sep, domain = email.rpartition("@")
    if not sep:
        return email
    if domain in DOTLESS_PROVIDERS:
        domain = DOTLESS_PROVIDERS[domain]
        local = local.split("+", 1)[0].replace(".", "")
    elif domain in PLUS_TAG_PROVIDERS:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"


def derive_sort_name(name: str) -> str:
    """
    "Tomás Ojea-Quintana" -> "Ojea-Quintana, Tomás": the last word first.
    Names written family name first ("Lee Yanghee") need an explicit sort name.
    """
    words = clean_text(name).split(" ")
    suffix = []
    while len(words) > 2 and words[-1].casefold() in NAME_SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) < 2:
        return " ".join(words + suffix)
    family = words.pop()
    return f"{family}, {' '.join(words + suffix)}"


@cache
def _collator() -> Collator:
    return Collator()


def collation_key(text: str) -> bytes:
    """
    The Unicode Collation Algorithm key of `text` as bytes, so that the database
    can sort by it with a plain byte comparison (SQLite and PostgreSQL alike)
    and a roster can be streamed in order instead of sorted in memory.
    """
    weights = _collator().sort_key(clean_text(text))
    return struct.pack(f">{len(weights)}H", *(min(weight, 0xFFFF) for weight in weights))


def email_domain(email: str) -> str:
    return email.strip().casefold().rpartition("@")[2]


def website_domain(website: str) -> str:
    """ "https://www.clu-veltrana.org/about" -> "clu-veltrana.org"."""
    host = urlsplit(website.strip() if "://" in website else f"https://{website.strip()}").hostname or ""
    return host.casefold().removeprefix("www.")
