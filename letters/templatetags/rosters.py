import datetime as dt
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from letters.languages import date_language, text_direction, zone_words
from letters.models import Letter
from letters.rosters import RosterEntry, format_day

register = template.Library()


@register.simple_tag
def roster_entries(entries: list[RosterEntry], versions_url: str = "") -> SafeString:
    """
    The <li> items of a roster section. Written in Python rather than as a
    template loop: for a 10,000-name list the loop cost twenty times the query
    (bench/roster.py). Every value is escaped here, with the same five
    characters as Django's autoescape. Each name and title has its own
    direction (languages.text_direction): a Latin name on an Arabic page, or an
    Arabic one on an English page, stays readable. A signer of an earlier text
    is marked, linked to that version on `versions_url` (the letter's versions page).
    """
    mark_text = gettext("signed an earlier version (version %(n)s)")
    items = []
    for entry in entries:
        name = entry.display_name if entry.is_organization else entry.name
        direction = text_direction(name)
        item = f'<li class="roster-entry"><span class="entry-name" dir="{direction}">{escape(name)}</span>'
        if entry.title and not entry.is_organization:
            item += (
                f'<span class="entry-title" dir="{text_direction(entry.title)}">{escape(entry.title)}</span>'
            )
        if entry.earlier_version:
            mark = escape(mark_text % {"n": entry.earlier_version})
            if versions_url:
                mark = f'<a href="{escape(versions_url)}#v{entry.earlier_version}">{mark}</a>'
            item += f'<span class="entry-mark">{mark}</span>'
        items.append(item + "</li>")
    return mark_safe("\n".join(items))  # noqa: S308 - each value is escaped above


@register.filter
def letter_day(value: dt.date | dt.datetime | None, letter: Letter) -> str:
    """A day (or the day of a moment in the letter's time zone) as the page's language writes it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = letter.local_date(value)
    return format_day(value, date_language(letter))


@register.filter
def letter_moment(value: dt.datetime | None, letter: Letter) -> str:
    """ "21 September 2023, 14:00 Zurich time (CEST)", in the letter's time zone and the page's language."""
    if value is None:
        return ""
    local = value.astimezone(letter.tzinfo)
    return (
        f"{format_day(local.date(), date_language(letter))}, {local:%H:%M} {zone_words(letter.tzinfo, value)}"
    )


@register.filter
def letter_deadline(value: dt.datetime | None, letter: Letter) -> str:
    """ "20 September 2023, 18:00 KST": in the letter's zone, by its abbreviation where it has one."""
    if value is None:
        return ""
    local = value.astimezone(letter.tzinfo)
    zone = local.tzname() or ""
    if not zone or zone[0] in "+-":  # a zone without an abbreviation: its name says more than "+04"
        zone = letter.timezone
    return f"{format_day(local.date(), date_language(letter))}, {local:%H:%M} {zone}"
