from django import template

from letters.admin.times import local_time

register = template.Library()


@register.filter
def in_zone(moment, where) -> str:
    """{{ signature.submitted_at|in_zone:signature.letter }} → "21 Sep 2023, 14:05 KST"."""
    return local_time(moment, where)
