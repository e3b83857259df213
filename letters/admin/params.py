"""
Numbers in query strings and forms of the staff panel. A record's id is ASCII
digits that fit a signed 64-bit integer (what every database's primary key
holds); anything else — "²", "-1", twenty nines, five thousand digits — is
refused before it reaches a query, where it would be a 500 (OverflowError on
SQLite, DataError on PostgreSQL, ValueError from int()).

`GuardedChangeList` is the one guard of the lists. Django lets a list's query
string filter by any of the model's own columns (`?letter=`, `?letter__id__in=`,
`?id=`, `?individual=`…) and checks the value only when the database reads it;
this list refuses, as the admin refuses any lookup it cannot use ("?e=1"), a
comparison of an id or an integer column with anything that is not one, a NUL
character (PostgreSQL refuses one in any text), and a
date hierarchy's year, month or day no calendar holds (Django turns
"?as_of__year=9999" into a day past the year 9999: a 500). The signature export
builds its queryset from the same list, so it is guarded too.
"""

from collections.abc import Callable

from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from letters.admin.times import EARLIEST_DAY, LATEST_DAY

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def database_id(value) -> int | None:
    """A record's id from a query string or a form, or None for anything no database can hold."""
    value = str(value)
    if not (value.isascii() and value.isdigit()):
        return None
    digits = value.lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:  # before int(), which refuses more than 4,300 digits
        return None
    number = int(digits)
    return number if number <= MAX_ID else None


def database_integer(value) -> int | None:
    """An integer a database column holds (signed 64-bit), from a query string, or None."""
    value = str(value)
    negative = value.startswith("-")
    number = database_id(value[1:] if negative else value)
    if number is None:
        return None
    return -number if negative else number


def integer_check(model: type[models.Model], key: str) -> Callable[[str], int | None] | None:
    """
    How to read the values of the lookup `key` (a query string's "letter__id__in")
    on `model`: `database_id` when it compares a record's id (the primary key, a
    foreign key, the id of a related record), `database_integer` when it
    compares another integer column, None when it compares something else
    (text, a date, `isnull`, a transform such as `__year`).
    """
    parts = key.split("__")
    opts, field, i = model._meta, None, 0
    while i < len(parts):
        try:
            found = opts.get_field(opts.pk.name if parts[i] == "pk" else parts[i])
        except FieldDoesNotExist:
            break
        field, i = found, i + 1
        if not (field.is_relation and field.related_model and i < len(parts)):
            break
        opts = field.related_model._meta  # the path goes on in the related model
    lookups = parts[i:]
    if field is None or len(lookups) > 1 or lookups == ["isnull"]:
        return None
    if field.is_relation:
        try:
            target = field.target_field
        except (AttributeError, FieldDoesNotExist):
            return None
        return database_id if isinstance(target, models.IntegerField) else None
    if isinstance(field, models.IntegerField):
        return database_id if field.primary_key else database_integer
    return None


def _pieces(values) -> list[str]:
    """A query string's values for one key, `in` and `range` lists split at their commas."""
    values = values if isinstance(values, list | tuple) else [values]
    return [piece for value in values for piece in str(value).split(",")]


class GuardedChangeList(ChangeList):
    """A list whose query string names only records and numbers a database holds, and real days."""

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        for key, values in lookup_params.items():
            # PostgreSQL compares no text holding a NUL (a DataError): no filter holds one.
            if any("\x00" in piece for piece in _pieces(values)):
                raise IncorrectLookupParameters(f"{key}: a NUL character.")
            check = integer_check(self.model, key)
            if check is not None and any(check(piece) is None for piece in _pieces(values)):
                raise IncorrectLookupParameters(f"{key}: not the id of a record or a number.")
        if self.date_hierarchy:
            bounds = {"year": (EARLIEST_DAY.year, LATEST_DAY.year - 1), "month": (1, 12), "day": (1, 31)}
            for part, (low, high) in bounds.items():
                for value in _pieces(lookup_params.get(f"{self.date_hierarchy}__{part}", [])):
                    number = database_id(value)
                    if number is None or not low <= number <= high:
                        raise IncorrectLookupParameters(f"{part}: not a day of the calendar.")
        return lookup_params


class GuardedListMixin:
    """A model admin whose list is a `GuardedChangeList`."""

    def get_changelist(self, request, **kwargs):
        return GuardedChangeList
