"""
Possible duplicates among organizations and individuals, for staff to merge or dismiss.

Two records are paired when their names are the same once case, accents,
punctuation and "&"/"and" are ignored (`normalize.name_key`), when they differ
only by a leading "The", when their acronyms are equal or one's name is the
other's acronym, or when their names are a letter or two apart (rapidfuzz's
Levenshtein distance). Pairs staff dismissed (`DismissedDuplicate`) are not
proposed again.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .models import DismissedDuplicate, Individual, Organization

# Names shorter than this are never compared by spelling: "ACAT UK" and
# "ACAT US" are different organizations, one letter apart.
MIN_FUZZY_LENGTH = 8


def max_distance(length: int) -> int:
    """How many letters may differ between two names of this length for them to be paired."""
    if length < MIN_FUZZY_LENGTH:
        return 0
    return 1 if length < 16 else 2


@dataclass
class DuplicatePair:
    first: Organization | Individual
    second: Organization | Individual
    reasons: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "organization" if isinstance(self.first, Organization) else "individual"


def _countries_compatible(a: str, b: str) -> bool:
    return not a or not b or a == b


def _fuzzy_pairs(rows: list[tuple], pairs: dict) -> None:
    """Pairs of rows (pk, key, country, …) whose keys are within `max_distance` of each other."""
    keys = [row[1] for row in rows]
    for i, (pk, key, country, *_) in enumerate(rows):
        limit = max_distance(len(key))
        if not limit:
            continue
        for _, distance, j in process.extract(
            key, keys[i + 1 :], scorer=Levenshtein.distance, score_cutoff=limit, limit=None
        ):
            other = rows[i + 1 + j]
            if distance == 0 or not _countries_compatible(country, other[2]):
                continue
            if distance > max_distance(len(other[1])):
                continue
            letters = "letter" if distance == 1 else "letters"
            pairs[(pk, other[0])].append(f"names {distance} {letters} apart")


def _group_pairs(groups: dict, pairs: dict, reason: str) -> None:
    for members in groups.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                pairs[(min(a, b), max(a, b))].append(reason)


def _dismissed(kind: str) -> set[tuple[int, int]]:
    return set(DismissedDuplicate.objects.filter(kind=kind).values_list("first_id", "second_id"))


def _materialize(model, pairs: dict, kind: str, limit: int) -> list[DuplicatePair]:
    dismissed = _dismissed(kind)
    keys = [pair for pair in pairs if pair not in dismissed]
    # Newest records first: those are the ones that just arrived from a form or a file.
    keys.sort(key=lambda pair: (-pair[1], -pair[0]))
    keys = keys[:limit]
    records = model.objects.in_bulk({pk for pair in keys for pk in pair})
    return [
        DuplicatePair(records[a], records[b], list(dict.fromkeys(pairs[(a, b)])))
        for a, b in keys
        if a in records and b in records
    ]


def organization_duplicates(limit: int = 200) -> list[DuplicatePair]:
    rows = list(Organization.objects.order_by("pk").values_list("pk", "name_key", "country", "acronym"))
    pairs: dict[tuple[int, int], list[str]] = defaultdict(list)
    by_key, by_base, by_acronym = defaultdict(list), defaultdict(list), defaultdict(list)
    for pk, key, _country, acronym in rows:
        by_key[key].append(pk)
        by_base[key.removeprefix("the ")].append((pk, key))
        if acronym:
            by_acronym[acronym.casefold()].append(pk)
    _group_pairs(by_key, pairs, "the same name but for case, accents, punctuation or “&”")
    for members in by_base.values():
        for i, (a, key_a) in enumerate(members):
            for b, key_b in members[i + 1 :]:
                if key_a != key_b:
                    pairs[(min(a, b), max(a, b))].append("the same name but for “The”")
    _group_pairs(by_acronym, pairs, "the same acronym")
    for pk, key, _country, _acronym in rows:
        for other in by_acronym.get(key, []):
            if other != pk:
                pairs[(min(pk, other), max(pk, other))].append("one’s name is the other’s acronym")
    _fuzzy_pairs(rows, pairs)
    return _materialize(Organization, pairs, DismissedDuplicate.Kind.ORGANIZATION, limit)


def individual_duplicates(limit: int = 200) -> list[DuplicatePair]:
    rows = list(Individual.objects.order_by("pk").values_list("pk", "name_key", "country"))
    pairs: dict[tuple[int, int], list[str]] = defaultdict(list)
    by_key = defaultdict(list)
    for pk, key, _country in rows:
        by_key[key].append(pk)
    _group_pairs(by_key, pairs, "the same name but for case, accents or punctuation")
    _fuzzy_pairs(rows, pairs)
    return _materialize(Individual, pairs, DismissedDuplicate.Kind.INDIVIDUAL, limit)


def duplicate_dismiss(*, kind: str, first_id: int, second_id: int, user) -> DismissedDuplicate:
    """Staff say the two records are different: the pair is not proposed again."""
    low, high = sorted((first_id, second_id))
    dismissed, _ = DismissedDuplicate.objects.get_or_create(
        kind=kind, first_id=low, second_id=high, defaults={"dismissed_by": user}
    )
    return dismissed


def close_organizations(organizations: list[Organization]) -> dict[int, int]:
    """
    For each of `organizations` (a page of the moderation queue), another
    organization whose name is within `max_distance` of its name, if there is
    one: {organization pk: other pk}. Two queries, whatever the number given.
    """
    organizations = [org for org in organizations if max_distance(len(org.name_key))]
    if not organizations:
        return {}
    rows = list(Organization.objects.order_by("pk").values_list("pk", "name_key", "country"))
    keys = [row[1] for row in rows]
    dismissed = _dismissed(DismissedDuplicate.Kind.ORGANIZATION)
    found = {}
    for org in organizations:
        limit = max_distance(len(org.name_key))
        matches = process.extract(
            org.name_key, keys, scorer=Levenshtein.distance, score_cutoff=limit, limit=None
        )
        for _, distance, j in sorted(matches, key=lambda match: match[1]):
            pk, key, country = rows[j]
            if pk == org.pk or (min(pk, org.pk), max(pk, org.pk)) in dismissed:
                continue
            if distance > max_distance(len(key)) or not _countries_compatible(org.country.code, country):
                continue
            found[org.pk] = pk
            break
    return found
