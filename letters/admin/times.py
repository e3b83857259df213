"""
How the staff panel writes a moment: in the letter's own time zone, with the
zone's abbreviation, one unambiguous format everywhere ("21 Sep 2023, 14:05
KST"). Lists, pages and the dashboard call `local_time`; templates use the
`in_zone` filter of `letters_admin`; change forms take `LetterZoneAdminMixin`.
"""

import datetime as dt
import functools
import zoneinfo
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.text import capfirst

from letters.languages import zone_words
from letters.lifecycle import EARLIEST_DAY
from letters.models import is_timezone

FORMAT = "%d %b %Y, %H:%M"
# What a time input accepts: the format it shows, and ISO.
INPUT_FORMATS = [FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
# The days a time typed in the panel may fall on, on the letter's clock: after the day
# before which no letter was signed (`lifecycle.EARLIEST_DAY`), before the last year of
# Python's calendar. A time near either end of the calendar is moved off it by its
# conversion to UTC (a New York 31 Dec 9999, 23:59) or by the day after it that lists
# and windows compute, and the database refuses to store it: a 500.
LATEST_DAY = dt.date(9999, 1, 1)


def zone_of(where) -> zoneinfo.ZoneInfo:
    """A letter's zone, or a zone given by name or as tzinfo."""
    if isinstance(where, dt.tzinfo):
        return where
    if isinstance(where, str):
        return zoneinfo.ZoneInfo(where)
    return where.tzinfo  # a Letter


def local_time(moment: dt.datetime | None, where) -> str:
    """`moment` in the zone of `where` (a letter, a zone name or a tzinfo): "21 Sep 2023, 14:05 KST"."""
    if moment is None:
        return ""
    local = moment.astimezone(zone_of(where))
    return f"{local.strftime(FORMAT).lstrip('0')} {abbreviation(local)}"


def abbreviation(local: dt.datetime) -> str:
    """ "KST", "CEST"; zones without a letter abbreviation get their offset, "UTC+04"."""
    name = local.tzname() or ""
    return f"UTC{name}" if name[:1] in {"+", "-"} else name


def zone_label(where, moment: dt.datetime | None = None) -> str:
    """ "Zurich time (CET)": as the public pages name the zone (letters.languages.zone_words)."""
    return zone_words(zone_of(where), moment)


class ZonedDateTimeInput(forms.DateTimeInput):
    """
    A text input showing a time as the rest of the panel writes it ("7 Nov
    2026, 09:00") in the zone the form is rendered in (the admin activates the
    letter's zone), with that zone named beside it. Not the browser's
    datetime-local, which writes 11/07/2026 or 07/11/2026 by the reader's locale.
    """

    def __init__(self, zone: str, attrs=None) -> None:
        self.zone = zone
        attrs = {"size": 20, "placeholder": "21 Sep 2023, 14:05", **(attrs or {})}
        super().__init__(attrs=attrs, format=FORMAT)

    def format_value(self, value):
        text = super().format_value(value)
        return text.lstrip("0") if text else text

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        # A new letter's zone is chosen in the same form: its name is not known yet.
        label = zone_label(self.zone) if self.zone else "in the letter’s time zone, chosen above"
        return format_html('{} <span class="timezone">{}</span>', html, label)


def validate_day(moment: dt.datetime | dt.date) -> None:
    """A time (or day) whose day, on the clock it was typed on, is one the panel can store and count from."""
    day = moment.date() if isinstance(moment, dt.datetime) else moment
    if not EARLIEST_DAY < day < LATEST_DAY:
        raise ValidationError(
            f"Enter a day after {EARLIEST_DAY:%-d %B %Y} and before {LATEST_DAY:%-d %B %Y}.",
            code="out_of_range",
        )


class MomentField(forms.DateTimeField):
    """A moment typed in the panel's format or ISO, on a day `validate_day` allows."""

    default_validators = [validate_day]

    def __init__(self, **kwargs) -> None:
        super().__init__(input_formats=INPUT_FORMATS, **kwargs)


class ZonedDateTimeField(MomentField):
    """A moment entered in the current zone, in the panel's format or ISO."""

    def __init__(self, *, zone: str, **kwargs) -> None:
        super().__init__(widget=ZonedDateTimeInput(zone), **kwargs)


class LetterZoneAdminMixin:
    """
    A ModelAdmin whose change form reads and writes times in the zone of the
    object's letter: Django renders read-only times in it (config/formats adds
    the abbreviation), and every editable moment becomes a ZonedDateTimeField,
    one input with the zone named beside it.
    """

    def letter_zone(self, request: HttpRequest, object_id) -> str:
        obj = self.get_object(request, object_id) if object_id else None
        letter = getattr(obj, "letter", None)
        return letter.timezone if letter is not None else settings.TIME_ZONE

    def changeform_view(self, request: HttpRequest, object_id=None, form_url="", extra_context=None):
        with timezone.override(self.letter_zone(request, object_id)):
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # inside the zone: a TemplateResponse renders late
        return response

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if isinstance(db_field, models.DateTimeField) and db_field.editable:
            return ZonedDateTimeField(
                zone=timezone.get_current_timezone_name(),
                required=not db_field.blank,
                label=capfirst(db_field.verbose_name),
                help_text=db_field.help_text or "In the letter’s time zone, e.g. “21 Sep 2023, 14:05”.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


# -- A letter's time zone, chosen from a list --------------------------------------

# Abbreviations organizers type that name no zone ("KST"), and the zone they mean.
# Those that name several places (IST: India, Ireland, Israel; CST: China, Cuba,
# the US) are refused with a word of why.
ABBREVIATIONS = {
    "KST": "Asia/Seoul",
    "JST": "Asia/Tokyo",
    "HKT": "Asia/Hong_Kong",
    "SGT": "Asia/Singapore",
    "PHT": "Asia/Manila",
    "WIB": "Asia/Jakarta",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "NZST": "Pacific/Auckland",
    "BST": "Europe/London",
    "CEST": "Europe/Paris",
    "EEST": "Europe/Athens",
    "EDT": "America/New_York",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "BRT": "America/Sao_Paulo",
    "ART": "America/Argentina/Buenos_Aires",
    "SAST": "Africa/Johannesburg",
    "EAT": "Africa/Nairobi",
    "WAT": "Africa/Lagos",
}
AMBIGUOUS = {"IST", "CST", "AST", "GST"}
REGIONS = ["Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"]


@functools.cache
def zone_countries() -> dict[str, str]:
    """The ISO country code of each zone, from the time zone database's zone.tab ("Asia/Seoul": "KR")."""
    import importlib.resources

    places = [importlib.resources.files("tzdata") / "zoneinfo" / "zone.tab"]
    places += [Path(root) / "zone.tab" for root in zoneinfo.TZPATH]
    for place in places:
        try:
            text = place.read_text(encoding="utf-8")
        except (OSError, ModuleNotFoundError):
            continue
        rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
        return {row[2]: row[0] for row in rows if len(row) >= 3}
    return {}


def zone_city(name: str) -> str:
    return name.rsplit("/", 1)[-1].replace("_", " ")


@functools.cache
def _zone_choices(language: str) -> list:
    from django_countries import countries

    countries_of = zone_countries()
    names = sorted(zoneinfo.available_timezones())
    groups = []
    for region in REGIONS:
        zones = [name for name in names if name.startswith(f"{region}/")]
        options = []
        for name in zones:
            code = countries_of.get(name)
            where = f"{zone_city(name)}, {countries.name(code)}" if code else zone_city(name)
            options.append((name, f"{where} ({name})"))
        groups.append((region, sorted(options, key=lambda option: option[1])))
    others = [(name, name) for name in names if name.split("/", 1)[0] not in REGIONS]
    return [("UTC", "UTC"), *groups, ("Other", others)]


def zone_choices() -> list:
    """Every zone, by region, each labelled by its city and country: "Seoul, South Korea (Asia/Seoul)"."""
    return _zone_choices(translation.get_language() or "")


def zone_named(value: str) -> str | None:
    """The zone `value` names ("Asia/Seoul", or "KST" for it), or None."""
    value = (value or "").strip()
    if is_timezone(value):
        return value
    return ABBREVIATIONS.get(value.upper())


class TimeZoneField(forms.ChoiceField):
    """
    A letter's zone, chosen from the list by city and country. A common
    abbreviation that names no zone ("KST") is read as the zone it means;
    one that names several places is refused beside the field.
    """

    default_error_messages = {
        "invalid_choice": "“%(value)s” is not a time zone: choose the letter’s city from the list.",
    }

    def __init__(self, **kwargs) -> None:
        kwargs.pop("max_length", None)
        kwargs.pop("empty_value", None)
        super().__init__(choices=zone_choices, **kwargs)

    def to_python(self, value) -> str:
        value = super().to_python(value).strip()
        if value.upper() in AMBIGUOUS:
            raise ValidationError(
                f"“{value.upper()}” is the name of more than one time zone: choose the city from the list.",
                code="ambiguous",
            )
        return zone_named(value) or value

    def valid_value(self, value) -> bool:
        return is_timezone(value)
