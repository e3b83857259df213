"""
The roster of a letter as of a day, in printed order.

Every page and export (web page, print, PDF, CSV, JSON, deliveries) reads the
list through `Roster`, which reads `Signature.objects.on_roster()`: the "as of"
rule and the sorting are defined once.
"""

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property

from django.db.models import Count, Max
from django.utils import dateformat, translation
from django_countries import countries

from .models import Letter, Signature

# How each letter language writes a full date.
DATE_FORMATS = {
    Letter.Language.EN_GB: "j F Y",
    Letter.Language.EN_US: "F j, Y",
    Letter.Language.FR: "j F Y",
    Letter.Language.ES: r"j \d\e F \d\e Y",
    Letter.Language.DE: "j. F Y",
    Letter.Language.PT: r"j \d\e F \d\e Y",
}


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class AsOfError(ValueError):
    """A requested `as_of` that is not a day we can show; the message is for the visitor."""


def format_day(day: dt.date, language: str) -> str:
    with translation.override(language):
        return dateformat.format(day, DATE_FORMATS.get(language, "j F Y"))


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

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    @property
    def is_organization(self) -> bool:
        return self.type == "organization"

    def as_dict(self) -> dict[str, str]:
        """The public fields, as the CSV, the JSON and frozen deliveries carry them."""
        return dict(zip(PUBLIC_FIELDS, self.as_row(), strict=True))

    def as_row(self) -> tuple[str, ...]:
        """The public fields in PUBLIC_FIELDS order (built by hand: dataclasses.asdict deep-copies)."""
        return (self.type, self.name, self.title, self.acronym, self.country, self.signed_on.isoformat())

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> "RosterEntry":
        return cls(**{**data, "signed_on": dt.date.fromisoformat(data["signed_on"])})


@dataclass
class Section:
    type: str
    heading: str
    entries: list[RosterEntry]


class Roster:
    INDIVIDUALS = "individual"
    ORGANIZATIONS = "organization"
    SECTION_HEADINGS = {INDIVIDUALS: "Individuals", ORGANIZATIONS: "Organizations"}

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
                f"“{raw_as_of[:40]}” is not a date. Give the day as YEAR-MONTH-DAY, for example 2023-09-21."
            )
        roster = cls(letter, day)
        if day > roster.today:
            raise AsOfError(
                f"{format_day(day, letter.language)} has not happened yet: the latest list is today’s "
                f"({format_day(roster.today, letter.language)})."
            )
        return roster

    @property
    def is_today(self) -> bool:
        return self.as_of == self.today

    @property
    def as_of_text(self) -> str:
        return format_day(self.as_of, self.letter.language)

    def signatures(self):
        return Signature.objects.on_roster(self.letter, as_of=self.as_of)

    @property
    def section_types(self) -> list[str]:
        types = []
        if self.letter.accepts_individuals:
            types.append(self.INDIVIDUALS)
        if self.letter.accepts_organizations:
            types.append(self.ORGANIZATIONS)
        if self.letter.section_order == Letter.SectionOrder.ORGANIZATIONS_FIRST:
            types.reverse()
        return types

    # Rows are read as tuples, not model instances: building 20,000 model objects
    # for a 10,000-name list cost more than the query itself (bench/roster.py).
    def _rows(self, section_type: str):
        if section_type == self.INDIVIDUALS:
            fields = ("individual__name", "individual__title", "individual__country", "signed_at")
            return self.signatures().individuals().values_list(*fields)
        fields = ("organization__name", "organization__acronym", "organization__country", "signed_at")
        return self.signatures().organizations().values_list(*fields)

    def _entry_maker(self, section_type: str):
        tz = self.letter.tzinfo
        countries = english_country_names()
        if section_type == self.INDIVIDUALS:

            def make(row) -> RosterEntry:
                name, title, country, signed_at = row
                return RosterEntry(
                    self.INDIVIDUALS,
                    name,
                    title,
                    "",
                    countries.get(country, ""),
                    signed_at.astimezone(tz).date(),
                )

        else:

            def make(row) -> RosterEntry:
                name, acronym, country, signed_at = row
                return RosterEntry(
                    self.ORGANIZATIONS,
                    name,
                    "",
                    acronym,
                    countries.get(country, ""),
                    signed_at.astimezone(tz).date(),
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
        by_type = {section.type: len(section.entries) for section in self.sections}
        individuals = by_type.get(self.INDIVIDUALS, 0)
        organizations = by_type.get(self.ORGANIZATIONS, 0)
        return {
            "individuals": individuals,
            "organizations": organizations,
            "total": individuals + organizations,
        }

    @property
    def is_before_opening(self) -> bool:
        opens_at = self.letter.opens_at
        return opens_at is not None and self.as_of < self.letter.local_date(opens_at)

    @property
    def is_empty(self) -> bool:
        return self.counts["total"] == 0

    @property
    def heading(self) -> str:
        if self.letter.accepts_individuals and self.letter.accepts_organizations:
            what = "Signatory organizations and individuals"
        elif self.letter.accepts_organizations:
            what = "Signatory organizations"
        else:
            what = "Signatories"
        return f"{what} (as of {self.as_of_text})"

    @property
    def counts_text(self) -> str:
        """ "7 individuals and 48 organizations", in the order of the sections."""
        words = {
            self.INDIVIDUALS: ("individual", "individuals"),
            self.ORGANIZATIONS: ("organization", "organizations"),
        }
        keys = {self.INDIVIDUALS: "individuals", self.ORGANIZATIONS: "organizations"}
        parts = []
        for section_type in self.section_types:
            n = self.counts[keys[section_type]]
            singular, plural = words[section_type]
            parts.append(f"{n:,} {singular if n == 1 else plural}")
        return " and ".join(parts)

    def fingerprint(self) -> str:
        """
        Changes whenever anything printed on this roster could have changed: a
        signature of the letter added, edited, withdrawn or removed, a signatory
        of the letter edited, or the letter itself edited. One aggregate over
        the letter's signatures (not the roster's, which would repeat the
        roster query's filters for every ETag).
        """
        state = Signature.objects.filter(letter=self.letter).aggregate(
            n=Count("pk"),
            changed=Max("updated_at"),
            individual=Max("individual__updated_at"),
            organization=Max("organization__updated_at"),
        )
        parts = [
            self.letter.pk,
            self.letter.updated_at.isoformat(),
            self.as_of.isoformat(),
            state["n"],
            state["changed"],
            state["individual"],
            state["organization"],
        ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
