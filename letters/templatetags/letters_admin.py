from django import template

from letters.admin.times import local_time, zone_of

register = template.Library()


@register.filter
def in_zone(moment, where) -> str:
    """{{ signature.submitted_at|in_zone:signature.letter }} → "21 Sep 2023, 14:05 KST"."""
    return local_time(moment, where)


@register.filter
def day_in_zone(moment, where) -> str:
    """{{ signature.signed_at|day_in_zone:signature.letter }} → "31 Aug 2023", that letter's day."""
    if moment is None:
        return ""
    return f"{moment.astimezone(zone_of(where)):%d %b %Y}".lstrip("0")
