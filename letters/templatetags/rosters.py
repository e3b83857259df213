import datetime as dt
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from letters.languages import date_language
from letters.models import Letter
from letters.rosters import RosterEntry, format_day

register = template.Library()


@register.simple_tag
def roster_entries(entries: list[RosterEntry]) -> SafeString:
    """
    The <li> items of a roster section. Written in Python rather than as a
    template loop: for a 10,000-name list the loop cost twenty times the query
    (bench/roster.py). Every value is escaped here, with the same five
    characters as Django's autoescape. Names and titles are isolated and take
    their own direction (dir="auto"): a Latin name on an Arabic page stays readable.
    """
    items = []
    name = '<li class="roster-entry"><span class="entry-name" dir="auto">{}</span>'
    for entry in entries:
        if entry.is_organization:
            items.append(name.format(escape(entry.display_name)) + "</li>")
        elif entry.title:
            items.append(
                f'<li class="roster-entry"><span class="entry-name" dir="auto">{escape(entry.name)}</span>'
                f'<span class="entry-title" dir="auto">{escape(entry.title)}</span></li>'
            )
        else:
            items.append(name.format(escape(entry.name)) + "</li>")
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
    """ "21 September 2023, 14:00 Europe/Zurich", in the letter's time zone and the page's language."""
    if value is None:
        return ""
    local = value.astimezone(letter.tzinfo)
    return f"{format_day(local.date(), date_language(letter))}, {local:%H:%M} {letter.timezone}"
