"""
The roster of a letter as of a day, in printed order.

Every page and export (web page, print, PDF, CSV, JSON, deliveries) reads the
list through `Roster`, which reads `Signature.objects.on_roster()`: the "as of"
rule and the sorting are defined once.
"""

import contextlib
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache, cached_property

from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Q
from django.utils import dateformat, formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_countries import countries

from letters.languages import date_language, text_direction
from letters.models import Letter, Signature
from signatories.normalize import name_key

# How each language writes a full date: the letter's own (Letter.language) in
# its main text, the page's when it is shown in another (languages.date_language).
DATE_FORMATS = {
    Letter.Language.EN_GB: "j F Y",
    Letter.Language.EN_US: "F j, Y",
    Letter.Language.FR: "j F Y",
    Letter.Language.ES: r"j \d\e F \d\e Y",
    Letter.Language.DE: "j. F Y",
    Letter.Language.PT: r"j \d\e F \d\e Y",
    Letter.Language.KO: "Y년 n월 j일",
    Letter.Language.ZH_HANS: "Y年n月j日",
    Letter.Language.JA: "Y年n月j日",
    Letter.Language.AR: "j F Y",
}


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@contextlib.contextmanager
def one_snapshot():
    """
    The reads inside see the database as it was at one moment, however many
    statements they take: a page's count and the names it lists agree while
    signers are being approved. On PostgreSQL a REPEATABLE READ, READ ONLY
    transaction. On SQLite a deferred read transaction (WAL: it never waits
    for the writer nor holds it up), begun by hand: Django's atomic() takes
    the write lock here (transaction_mode IMMEDIATE, config/sqlite). Nothing
    inside may write. Already inside a transaction (a caller's, a test's) it
    adds nothing: a snapshot can only be chosen before the first read.
    """
    if connection.in_atomic_block:
        yield
        return
    if connection.vendor != "sqlite":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("BEGIN DEFERRED")
    try:
        yield
    except BaseException:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
            cursor.execute("ROLLBACK")
        raise
    with connection.cursor() as cursor:
        cursor.execute("COMMIT")


class AsOfError(ValueError):
    """A requested `as_of` that is not a day we can show; the message is for the visitor."""


def format_day(day: dt.date, language: str) -> str:
    with translation.override(language):
        text = dateformat.format(day, DATE_FORMATS.get(language, "j F Y"))
    # Django's Portuguese capitalizes months; Portuguese writes them in lower case.
    return text.lower() if language == Letter.Language.PT else text


@cache
def english_country_names() -> dict[str, str]:
    with translation.override("en"):
        return {code: str(name) for code, name in countries}


PUBLIC_FIELDS = ("type", "name", "title", "acronym", "country", "signed_on")


@dataclass(frozen=True, slots=True)
class RosterEntry:
    type: str  # "individual" or "organization"
    name: str
    title: str
    acronym: str
    country: str  # English short name, e.g. "South Korea"
    signed_on: dt.date
    # Read once a letter has a second text version (else None): the version the signer held
    # at the end of the day shown, and whether that is earlier than the day's last material
    # one ("signed an earlier version": Word and every output read `earlier_version`).
    text_version: int | None = None
    marked: bool = False

    @property
    def earlier_version(self) -> int | None:
        """The earlier version this signer signed, when the list marks them; else None."""
        return self.text_version if self.marked else None

    @property
    def name_dir(self) -> str:
        return text_direction(self.display_name if self.is_organization else self.name)

    @property
    def title_dir(self) -> str:
        return text_direction(self.title)

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    @property
    def is_organization(self) -> bool:
        return self.type == "organization"

    def as_dict(self) -> dict:
        """
        The public fields, as the CSV, the JSON and frozen deliveries carry them; with
        `text_version` (and `earlier_version`, the mark) once the letter has two versions.
        """
        data = dict(zip(PUBLIC_FIELDS, self.as_row(), strict=True))
        if self.text_version is not None:
            data |= {"text_version": self.text_version, "earlier_version": self.earlier_version}
        return data

    def as_row(self) -> tuple[str, ...]:
        """The public fields in PUBLIC_FIELDS order (built by hand: dataclasses.asdict deep-copies)."""
        return (self.type, self.name, self.title, self.acronym, self.country, self.signed_on.isoformat())

    @classmethod
    def from_dict(cls, data: dict) -> "RosterEntry":
        fields = {name: data[name] for name in PUBLIC_FIELDS} | {
            "signed_on": dt.date.fromisoformat(data["signed_on"])
        }
        if data.get("text_version") is not None:
            fields |= {
                "text_version": data["text_version"],
                "marked": data.get("earlier_version") is not None,
            }
        return cls(**fields)


@dataclass
class Section:
    type: str
    heading: str
    entries: list[RosterEntry]
    # Signers who cannot be named: counted at the end of the section, never listed.
    unnamed: int = 0

    @property
    def unnamed_text(self) -> str:
        """ "and 12 other organizations that cannot be named for their safety", in the page's language."""
        n, count = self.unnamed, formats.number_format(self.unnamed, use_l10n=True, force_grouping=True)
        if not n:
            return ""
        if self.type == Roster.INDIVIDUALS:
            if self.entries:
                text = ngettext(
                    "and %(count)s other individual who cannot be named for their safety",
                    "and %(count)s other individuals who cannot be named for their safety",
                    n,
                )
            else:
                text = ngettext(
                    "%(count)s individual who cannot be named for their safety",
                    "%(count)s individuals who cannot be named for their safety",
                    n,
                )
        elif self.entries:
            text = ngettext(
                "and %(count)s other organization that cannot be named for its safety",
                "and %(count)s other organizations that cannot be named for their safety",
                n,
            )
        else:
            text = ngettext(
                "%(count)s organization that cannot be named for its safety",
                "%(count)s organizations that cannot be named for their safety",
                n,
            )
        return text % {"count": count}


class Roster:
    INDIVIDUALS = "individual"
    ORGANIZATIONS = "organization"
    SECTION_HEADINGS = {
        INDIVIDUALS: gettext_lazy("Individuals"),
        ORGANIZATIONS: gettext_lazy("Organizations"),
    }

    def __init__(self, letter: Letter, as_of: dt.date | None = None) -> None:
        self.letter = letter
        self.today = letter.today()
        self.as_of = as_of or self.today

    @classmethod
    def for_request(cls, letter: Letter, raw_as_of: str | None) -> "Roster":
        """The roster for a `?as_of=YYYY-MM-DD` parameter; raises AsOfError with a readable message."""
        if raw_as_of is None or raw_as_of.strip() == "":
            return cls(letter)
        try:
            if not ISO_DAY.fullmatch(raw_as_of.strip()):
                raise ValueError
            day = dt.date.fromisoformat(raw_as_of.strip())
        except ValueError:
            raise AsOfError(
                _("“%(value)s” is not a date. Give the day as YEAR-MONTH-DAY, for example 2023-09-21.")
                % {"value": raw_as_of[:40]}
            )
        roster = cls(letter, day)
        if day > roster.today:
            language = date_language(letter)
            raise AsOfError(
                _("%(day)s has not happened yet: the latest list is today’s (%(today)s).")
                % {"day": format_day(day, language), "today": format_day(roster.today, language)}
            )
        return roster

    @property
    def is_today(self) -> bool:
        return self.as_of == self.today

    @property
    def as_of_text(self) -> str:
        """The day, as the page's language writes it (the letter's own on a page in its language)."""
        return format_day(self.as_of, date_language(self.letter))

    def listed(self):
        """Everyone on the day's list, the unnamed too: what counts read."""
        return Signature.objects.on_roster(self.letter, as_of=self.as_of)

    def signatures(self):
        """The named signatures: the only ones any page, file or embed may print."""
        return self.listed().filter(unnamed=False)

    @cached_property
    def section_types(self) -> list[str]:
        """
        The kinds the letter accepts, and a kind it no longer accepts while
        someone of it is on the day's list: closing the form to a kind takes
        nobody off a list (docs/design.md, "The list as of a day").
        """
        types = []
        if self.letter.accepts_individuals or self.listed().individuals().exists():
            types.append(self.INDIVIDUALS)
        if self.letter.accepts_organizations or self.listed().organizations().exists():
            types.append(self.ORGANIZATIONS)
        if self.letter.section_order == Letter.SectionOrder.ORGANIZATIONS_FIRST:
            types.reverse()
        return types

    @property
    def has_text_versions(self) -> bool:
        """The letter's text changed after people signed: entries carry their version (and the mark)."""
        return self.letter.text_version >= 2

    @cached_property
    def material_version(self) -> int:
        """The last material version at the end of the day shown: a signer of an earlier one is marked."""
        if self.as_of >= self.today:
            return self.letter.material_version
        end = self.letter.end_of_day(self.as_of)
        versions = self.letter.text_versions.filter(material=True, created_at__lt=end)
        return versions.order_by("-number").values_list("number", flat=True).first() or 0

    def held_version(self, text_version: int | None, earlier: list) -> int:
        """
        The version a signer held at the end of the day shown: the one they agreed to
        last by then (`Signature.earlier_text_versions` says until when they held each).
        """
        if earlier and self.as_of < self.today:
            end = self.letter.end_of_day(self.as_of)
            for number, until in earlier:
                if dt.datetime.fromisoformat(until) >= end:
                    return number
        return text_version or 1

    # Rows are read as tuples, not model instances: building 20,000 model objects
    # for a 10,000-name list cost more than the query itself (bench/roster.py).
    def _rows(self, section_type: str):
        versions = ("text_version", "earlier_text_versions") if self.has_text_versions else ()
        if section_type == self.INDIVIDUALS:
            fields = ("individual__name", "individual__title", "individual__country", "signed_at")
            return self.signatures().individuals().values_list(*fields, *versions)
        fields = ("organization__name", "organization__acronym", "organization__country", "signed_at")
        return self.signatures().organizations().values_list(*fields, *versions)

    def _entry_maker(self, section_type: str):
        tz = self.letter.tzinfo
        countries = english_country_names()
        versioned = self.has_text_versions
        material = self.material_version if versioned else 0
        individuals = section_type == self.INDIVIDUALS

        def make(row) -> RosterEntry:
            name, title_or_acronym, country, signed_at = row[:4]
            held = self.held_version(row[4], row[5]) if versioned else None
            return RosterEntry(
                section_type,
                name,
                title_or_acronym if individuals else "",
                "" if individuals else title_or_acronym,
                countries.get(country, ""),
                signed_at.astimezone(tz).date(),
                held,
                versioned and held < material,
            )

        return make

    @cached_property
    def sections(self) -> list[Section]:
        """Both sections, read into memory: one query each, whatever their length."""
        return [
            Section(
                type=section_type,
                heading=self.SECTION_HEADINGS[section_type],
                entries=list(map(self._entry_maker(section_type), self._rows(section_type))),
            )
            for section_type in self.section_types
        ]

    def iter_entries(self, chunk_size: int = 2000) -> Iterator[RosterEntry]:
        """Every entry in printed order, streamed from the database in chunks."""
        for section_type in self.section_types:
            yield from map(
                self._entry_maker(section_type), self._rows(section_type).iterator(chunk_size=chunk_size)
            )

    def entries(self) -> list[RosterEntry]:
        return [entry for section in self.sections for entry in section.entries]

    @cached_property
    def counts(self) -> dict[str, int]:
        """Each kind's count, the unnamed included, and how many of them are unnamed."""
        by_type = {section.type: len(section.entries) for section in self.sections}
        unnamed = self.unnamed_counts
        individuals = by_type.get(self.INDIVIDUALS, 0) + unnamed[self.INDIVIDUALS]
        organizations = by_type.get(self.ORGANIZATIONS, 0) + unnamed[self.ORGANIZATIONS]
        return {
            "individuals": individuals,
            "organizations": organizations,
            "unnamed_individuals": unnamed[self.INDIVIDUALS],
            "unnamed_organizations": unnamed[self.ORGANIZATIONS],
            "total": individuals + organizations,
        }

    @cached_property
    def unnamed_counts(self) -> dict[str, int]:
        """
        How many of each kind are listed unnamed: one query, which reads no name.
        A delivery's roster (`letters.outputs.deliveries.FrozenRoster`) has the
        count it froze instead.
        """
        frozen = getattr(getattr(self, "delivery", None), "unnamed_counts", None)
        if frozen is not None:
            return frozen
        counts = (
            self.listed()
            .filter(unnamed=True)
            .aggregate(
                individual=Count("pk", filter=Q(individual__isnull=False)),
                organization=Count("pk", filter=Q(organization__isnull=False)),
            )
        )
        return {self.INDIVIDUALS: counts["individual"], self.ORGANIZATIONS: counts["organization"]}

    @property
    def printed_sections(self) -> list[Section]:
        """The sections a page or file prints: the named entries, then the unnamed count."""
        sections = [
            replace(section, unnamed=self.unnamed_counts.get(section.type, 0)) for section in self.sections
        ]
        return [section for section in sections if section.entries or section.unnamed]

    @property
    def is_before_opening(self) -> bool:
        opens_at = self.letter.opens_at
        return opens_at is not None and self.as_of < self.letter.local_date(opens_at)

    @property
    def is_empty(self) -> bool:
        return self.counts["total"] == 0

    @property
    def heading(self) -> str:
        types = set(self.section_types)
        if types == {self.INDIVIDUALS, self.ORGANIZATIONS}:
            heading = _("Signatory organizations and individuals (as of %(day)s)")
        elif types == {self.ORGANIZATIONS}:
            heading = _("Signatory organizations (as of %(day)s)")
        else:
            heading = _("Signatories (as of %(day)s)")
        return heading % {"day": self.as_of_text}

    @property
    def counts_text(self) -> str:
        """ "7 individuals and 48 organizations", in the order of the sections and the page's language."""
        parts = []
        for section_type in self.section_types:
            if section_type == self.INDIVIDUALS:
                n = self.counts["individuals"]
                text = ngettext("%(count)s individual", "%(count)s individuals", n)
            else:
                n = self.counts["organizations"]
                text = ngettext("%(count)s organization", "%(count)s organizations", n)
            parts.append(text % {"count": formats.number_format(n, use_l10n=True, force_grouping=True)})
        if len(parts) == 2:
            return _("%(first)s and %(second)s") % {"first": parts[0], "second": parts[1]}
        return parts[0]

    def state_now(self) -> str:
        """
        Changes whenever anything printed on this roster could have changed, and
        only then: the letter's `roster_version` (bumped in the transaction of
        every change to its public list), its `updated_at` (the letter edited)
        and the day. Nothing a visitor cannot see goes in, so a pending or
        rejected signature changes no ETag. One read of the letter's row, which
        may be newer than `self.letter` (deliveries and workers hold letters for
        a while); requests use `state()` on the row they just read.
        """
        row = Letter.objects.values_list("roster_version", "updated_at").get(pk=self.letter.pk)
        return roster_state(self.letter.pk, *row, self.as_of)

    def state(self) -> str:
        """`state_now()` from the letter row as this request read it: no query."""
        letter = self.letter
        return roster_state(letter.pk, letter.roster_version, letter.updated_at, self.as_of)

    def read_now(self) -> str:
        """
        Reads the list and its state in one snapshot and returns the state,
        so that what is stored under it shows exactly that list.
        """
        with one_snapshot():
            state = self.state_now()
            self.sections  # noqa: B018 - read now, inside the snapshot
        return state

    def read_together(self) -> "Roster":
        """
        Reads (again) what a page prints of the list, its sections and its
        counts, in one snapshot: never "3 individuals" above 4 names.
        """
        for name in ("section_types", "counts", "sections"):
            self.__dict__.pop(name, None)
        with one_snapshot():
            self.section_types  # noqa: B018 - read now, inside the snapshot
            self.counts  # noqa: B018
            self.sections  # noqa: B018
        return self


def roster_state(letter_id: int, roster_version: int, updated_at: dt.datetime, as_of: dt.date) -> str:
    parts = [letter_id, roster_version, updated_at.isoformat(), as_of.isoformat()]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


class RosterPage(Roster):
    """
    The letter page's view of a roster: organizations in full, individuals a
    page at a time or those whose name matches a search. Print, PDF, CSV, JSON
    and deliveries always read the whole `Roster`. The counts are the whole
    list's. Costs one count query and one query per section, whatever the length.
    """

    PER_PAGE = 1000

    def __init__(
        self, letter: Letter, as_of: dt.date | None = None, *, page: int = 1, search: str = ""
    ) -> None:
        super().__init__(letter, as_of)
        self.search = search.strip()[:100]
        self.search_key = name_key(self.search)
        self.number = page

    @classmethod
    def for_request(
        cls, letter: Letter, raw_as_of: str | None, raw_page: str | None = None, search: str = ""
    ) -> "RosterPage":
        roster = super().for_request(letter, raw_as_of)
        page = cls(letter, roster.as_of, search=search or "")
        if raw_page not in (None, ""):
            # ASCII digits only, and few of them: "²" is a digit to isdigit() but not to int().
            if not re.fullmatch(r"[0-9]{1,9}", raw_page) or not 1 <= int(raw_page) <= page.pages:
                raise AsOfError(
                    _("There is no page “%(page)s” of this list: it has %(pages)s.")
                    % {"page": raw_page[:20], "pages": page.pages}
                )
            page.number = int(raw_page)
        return page

    @cached_property
    def counts(self) -> dict[str, int]:
        counts = self.listed().aggregate(
            individuals=Count("pk", filter=Q(individual__isnull=False)),
            organizations=Count("pk", filter=Q(organization__isnull=False)),
            unnamed_individuals=Count("pk", filter=Q(individual__isnull=False, unnamed=True)),
            unnamed_organizations=Count("pk", filter=Q(organization__isnull=False, unnamed=True)),
        )
        return counts | {"total": counts["individuals"] + counts["organizations"]}

    @cached_property
    def unnamed_counts(self) -> dict[str, int]:
        # Read with the counts, in the same query.
        counts = self.counts
        return {
            self.INDIVIDUALS: counts["unnamed_individuals"],
            self.ORGANIZATIONS: counts["unnamed_organizations"],
        }

    @property
    def is_searching(self) -> bool:
        return bool(self.search_key)

    @property
    def pages(self) -> int:
        if self.is_searching:
            return 1
        named = self.counts["individuals"] - self.counts["unnamed_individuals"]
        return max(1, -(-named // self.PER_PAGE))

    @property
    def is_paginated(self) -> bool:
        return self.pages > 1

    @property
    def page_numbers(self) -> range:
        return range(1, self.pages + 1)

    def _rows(self, section_type: str):
        rows = super()._rows(section_type)
        if self.is_searching:
            field = "individual__name_key" if section_type == self.INDIVIDUALS else "organization__name_key"
            return rows.filter(**{f"{field}__contains": self.search_key})[: self.PER_PAGE]
        if section_type == self.INDIVIDUALS:
            start = (self.number - 1) * self.PER_PAGE
            return rows[start : start + self.PER_PAGE]
        return rows

    @cached_property
    def sections(self) -> list[Section]:
        if self.counts["total"] == 0:
            return []
        return super().sections

    @property
    def printed_sections(self) -> list[Section]:
        # The unnamed are no match for a search, and are counted once, after the last page.
        sections = super().printed_sections
        for section in sections:
            if self.is_searching or (section.type == self.INDIVIDUALS and self.number < self.pages):
                section.unnamed = 0
        return [section for section in sections if section.entries or section.unnamed]

    @property
    def matches(self) -> int:
        return sum(len(section.entries) for section in self.sections)
