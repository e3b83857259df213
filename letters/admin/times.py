"""
How the staff panel writes a moment: in the letter's own time zone, with the
zone's abbreviation, one unambiguous format everywhere ("21 Sep 2023, 14:05
KST"). Lists, pages and the dashboard call `local_time`; templates use the
`in_zone` filter of `letters_admin`; change forms take `LetterZoneAdminMixin`.
"""

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst

from letters.lifecycle import EARLIEST_DAY

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
    """ "Europe/Zurich (CET)": the zone's name and its abbreviation now (or at `moment`)."""
    zone = zone_of(where)
    short = abbreviation((moment or dt.datetime.now(dt.UTC)).astimezone(zone))
    name = str(getattr(zone, "key", zone))
    return name if short == name else f"{name} ({short})"


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
        return format_html('{} <span class="timezone">{}</span>', html, zone_label(self.zone))


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
