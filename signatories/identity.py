"""
Who is the same signatory, and who is probably the same: the one definition.

docs/design.md, "One signatory, one lifecycle":

- Individuals are the same person when their canonical e-mails are equal. A
  record without an e-mail (an imported row) whose normalized name equals that
  of a person already on the same letter, by a signature that speaks for them
  (the lifecycle's `vouched`: confirmed, listed or entered by staff), is that
  person. What an unconfirmed or rejected web signature typed speaks for its
  own entry only: its name equal to someone's is near, never the same. Equal names
  otherwise, and names a letter or two apart, are *near*: flagged for staff,
  never merged silently.
- Organizations are the same when their normalized names are equal, or their
  acronym and country are. Near: the same name but for "The", the same acronym
  (in another or no country), one's name is the other's acronym, or names a
  letter or two apart.

Every answer carries its reason. The pairwise rules (`organization_relation`,
`individual_relation`) decide; the look-ups below only find the candidates
they are asked about, and the duplicates pages pair records with them. The
moderation queue needs a few of the rules as SQL (`near_organizations`,
`namesakes`), so that it costs the same few queries for ten rows or three
hundred; tests/test_identity.py keeps the SQL and the Python in step. (A
signature's mailbox is stored, `Signature.contact_mailbox`, derived with
`normalize.canonical_email`, so the queue finds it by an index.)
"""

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.db.models.functions import Concat, Lower
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from signatories.models import DismissedDuplicate, Individual, Organization
from signatories.normalize import FREE_MAIL_PROVIDERS, canonical_email, email_domain, website_domain

# Reasons, as staff read them.
SAME_EMAIL = "the same e-mail address"
SAME_NAME_ON_LETTER = "the same name, already on this letter"
SAME_ORGANIZATION_NAME = "the same name but for case, accents, punctuation or “&”"
SAME_ACRONYM_AND_COUNTRY = "the same acronym in the same country"
NEAR_NAME = "the same name but for case, accents or punctuation"
NEAR_THE = "the same name but for “The”"
NEAR_ACRONYM = "the same acronym"
NEAR_NAME_IS_ACRONYM = "one’s name is the other’s acronym"

# Names shorter than this are never compared by spelling: "ACAT UK" and
# "ACAT US" are different organizations, one letter apart.
MIN_FUZZY_LENGTH = 8

Signatory = Individual | Organization


def max_distance(length: int) -> int:
    """How many letters may differ between two names of this length for them to be near."""
    if length < MIN_FUZZY_LENGTH:
        return 0
    return 1 if length < 16 else 2


def spelling_reason(distance: int) -> str:
    return f"names {distance} {'letter' if distance == 1 else 'letters'} apart"


@dataclass(frozen=True)
class Match:
    """`record` is the same signatory as the one asked about (`same`), or probably the same (near)."""

    record: Signatory
    reasons: tuple[str, ...]
    same: bool

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


# -- The rules ----------------------------------------------------------------


def _countries_compatible(a: str, b: str) -> bool:
    return not a or not b or a == b


def _close_spelling(key_a: str, key_b: str, country_a: str, country_b: str) -> str:
    limit = min(max_distance(len(key_a)), max_distance(len(key_b)))
    if not limit or key_a == key_b or not _countries_compatible(country_a, country_b):
        return ""
    distance = Levenshtein.distance(key_a, key_b, score_cutoff=limit)
    return spelling_reason(distance) if distance <= limit else ""


def _code(country) -> str:
    return getattr(country, "code", country) or ""


def organization_relation(a: Organization, b: Organization) -> tuple[bool, list[str]]:
    """Whether `a` and `b` are the same organization, and every reason they are the same or near."""
    same, near = [], []
    acronym_a, acronym_b = a.acronym.casefold(), b.acronym.casefold()
    country_a, country_b = _code(a.country), _code(b.country)
    if a.name_key == b.name_key:
        same.append(SAME_ORGANIZATION_NAME)
    elif a.name_key.removeprefix("the ") == b.name_key.removeprefix("the "):
        near.append(NEAR_THE)
    if acronym_a and acronym_a == acronym_b:
        if country_a and country_a == country_b:
            same.append(SAME_ACRONYM_AND_COUNTRY)
        else:
            near.append(NEAR_ACRONYM)
    if (acronym_b and a.name_key == acronym_b) or (acronym_a and b.name_key == acronym_a):
        near.append(NEAR_NAME_IS_ACRONYM)
    if spelling := _close_spelling(a.name_key, b.name_key, country_a, country_b):
        near.append(spelling)
    return bool(same), same + near


def individual_relation(
    a: Individual, b: Individual, *, on_same_letter: bool = False
) -> tuple[bool, list[str]]:
    """
    Whether `a` and `b` are the same person, and every reason they are the same
    or near. `on_same_letter`: `b` has signed the letter `a` is signing or
    being imported into by a signature that speaks for `b` (confirmed, listed
    or entered by staff: the caller asks the lifecycle), where an equal name
    without an e-mail is the same person. A name a stranger typed and never
    confirmed proves nothing: pass False, and it is near.
    """
    if a.canonical_email and a.canonical_email == b.canonical_email:
        return True, [SAME_EMAIL]
    if a.name_key == b.name_key:
        if on_same_letter and not (a.canonical_email and b.canonical_email):
            return True, [SAME_NAME_ON_LETTER]
        return False, [NEAR_NAME]
    spelling = _close_spelling(a.name_key, b.name_key, _code(a.country), _code(b.country))
    return False, [spelling] if spelling else []


# -- One record: who is it? ---------------------------------------------------


def _fuzzy_candidates(model, key: str, country: str, exclude_pk: int | None, limit: int = 5) -> list:
    """Records whose name key is within `max_distance` of `key` (one query, the comparison in rapidfuzz)."""
    most = max_distance(len(key))
    if not most:
        return []
    rows = list(model.objects.exclude(pk=exclude_pk).values_list("pk", "name_key", "country"))
    found = process.extract(
        key, [row[1] for row in rows], scorer=Levenshtein.distance, score_cutoff=most, limit=None
    )
    pks = [rows[j][0] for _, distance, j in sorted(found, key=lambda m: m[1]) if distance][:limit]
    return list(model.objects.filter(pk__in=pks))


def _matches(candidate: Signatory, records: Iterable[Signatory], relation) -> list[Match]:
    found: dict[int, Match] = {}
    for record in records:
        if record.pk == candidate.pk or record.pk in found:
            continue
        same, reasons = relation(candidate, record)
        if reasons:
            found[record.pk] = Match(record, tuple(reasons), same)
    # The same before the near, then the oldest record.
    return sorted(found.values(), key=lambda match: (not match.same, match.record.pk))


def match_keys(signatory: Signatory) -> list[tuple[str, str]]:
    """
    The keys under which another record finds `signatory` when it may be the
    same or near (the earlier rows of a file being imported, say): a person's
    name and address; an organization's name without "The", and its acronym.
    """
    if isinstance(signatory, Individual):
        email = [("email", signatory.canonical_email)] if signatory.canonical_email else []
        return [("name", signatory.name_key), *email]
    keys = [("name", signatory.name_key.removeprefix("the "))]
    if acronym := signatory.acronym.casefold():
        keys.append(("acronym", acronym))
    return keys


def match_lookups(signatory: Signatory) -> list[tuple[str, str]]:
    """
    The keys to look up for records that may be the same as or near
    `signatory`: its own `match_keys`, and an organization's name as someone's
    acronym and its acronym as someone's name.
    """
    lookups = match_keys(signatory)
    if isinstance(signatory, Organization):
        lookups.append(("acronym", signatory.name_key))
        if acronym := signatory.acronym.casefold():
            lookups.append(("name", acronym))
    return lookups


def organization_matches(candidate: Organization, *, fuzzy: bool = True) -> list[Match]:
    """Organizations that are `candidate` (first) or probably are, with why."""
    key = candidate.name_key
    acronym = candidate.acronym.casefold()
    organizations = Organization.objects.alias(acronym_lower=Lower("acronym")).exclude(pk=candidate.pk)
    # The same: few, and all of them wanted, however many near ones there are.
    same = Q(name_key=key)
    if acronym and candidate.country:
        same |= Q(acronym_lower=acronym, country=_code(candidate.country))
    near = Q(name_key__in={key.removeprefix("the "), f"the {key.removeprefix('the ')}"}) | Q(
        acronym_lower=key
    )
    if acronym:
        near |= Q(acronym_lower=acronym) | Q(name_key=acronym)
    records = [
        *organizations.filter(same).order_by("pk")[:5],
        *organizations.filter(near).order_by("pk")[:20],
    ]
    if fuzzy:
        records += _fuzzy_candidates(Organization, key, _code(candidate.country), candidate.pk)
    return _matches(candidate, records, organization_relation)


def organization_same(candidate: Organization) -> Match | None:
    """The organization on file that `candidate` is, if any."""
    matches = organization_matches(candidate, fuzzy=False)
    return matches[0] if matches and matches[0].same else None


def individual_matches(
    candidate: Individual,
    *,
    on_letter: QuerySet | None = None,
    fuzzy: bool = True,
    near: int = 20,
    near_when_found: bool = True,
) -> list[Match]:
    """
    Individuals that are `candidate` (first) or probably are, with why.
    `on_letter`: the individuals who have signed the letter in question, among
    whom an equal name without an e-mail is the same person. `near`: how many
    namesakes from the rest of the table to look at, at most; none once the
    mailbox's owner is found if not `near_when_found` (a returning signer).
    """
    people = Individual.objects.exclude(pk=candidate.pk)
    # The same: the mailbox's owner, and namesakes already on the letter (all
    # of them, however many namesakes the rest of the table holds); then near
    # ones, in the order of the name's index (an OR of both would collect every
    # namesake of a common name to sort them).
    email = candidate.canonical_email
    records = list(people.filter(canonical_email=email)) if email else []
    on_letter_pks: set[int] = set()
    if on_letter is not None:
        on_the_letter = list(
            on_letter.filter(name_key=candidate.name_key).exclude(pk=candidate.pk).distinct()
        )
        on_letter_pks = {person.pk for person in on_the_letter}
        records += on_the_letter
    if near and (near_when_found or not records):
        records += people.filter(name_key=candidate.name_key).order_by("pk")[:near]
    if fuzzy:
        records += _fuzzy_candidates(Individual, candidate.name_key, _code(candidate.country), candidate.pk)

    def relation(a: Individual, b: Individual):
        return individual_relation(a, b, on_same_letter=b.pk in on_letter_pks)

    return _matches(candidate, records, relation)


def individual_same(candidate: Individual, *, on_letter: QuerySet | None = None) -> Match | None:
    """The individual on file that `candidate` is, if any (see `individual_matches`)."""
    matches = individual_matches(candidate, on_letter=on_letter, fuzzy=False)
    return matches[0] if matches and matches[0].same else None


def _in_order(matches: dict[int, Match]) -> list[Match]:
    # As `_matches` orders them: the same before the near, then the oldest record.
    return sorted(matches.values(), key=lambda match: (not match.same, match.record.pk))


def individual_matches_many(
    candidates: list[Individual], *, on_letter: QuerySet | None = None
) -> list[list[Match]]:
    """
    For each candidate, the individuals on file that are it (first) or are
    near it by e-mail or equal name, as `individual_matches(..., fuzzy=False)`
    finds them one by one: one query for all of them (an import's batch).
    """
    emails = {person.canonical_email for person in candidates if person.canonical_email}
    keys = {person.name_key for person in candidates}
    on_letter_pks = Q(pk__in=on_letter.values("pk")) if on_letter is not None else Q(pk__in=[])
    records = Individual.objects.filter(Q(canonical_email__in=emails) | Q(name_key__in=keys)).annotate(
        on_letter=ExpressionWrapper(on_letter_pks, output_field=BooleanField())
    )
    by_email, by_key = defaultdict(list), defaultdict(list)
    for record in records.order_by("pk"):
        if record.canonical_email:
            by_email[record.canonical_email].append(record)
        by_key[record.name_key].append(record)
    found = []
    for person in candidates:
        matches: dict[int, Match] = {}
        for record in by_email.get(person.canonical_email, []) + by_key.get(person.name_key, []):
            same, reasons = individual_relation(person, record, on_same_letter=record.on_letter)
            if reasons and record.pk not in matches:
                matches[record.pk] = Match(record, tuple(reasons), same)
        found.append(_in_order(matches))
    return found


def organization_matches_many(candidates: list[Organization]) -> list[list[Match]]:
    """
    For each candidate, the organizations on file that are it (first) or are
    near it by name or acronym, as `organization_matches(..., fuzzy=False)`
    finds them one by one: one query for all of them (an import's batch).
    """
    keys = {org.name_key.removeprefix("the ") for org in candidates}
    names = keys | {f"the {key}" for key in keys}
    acronyms = {org.acronym.casefold() for org in candidates if org.acronym}
    records = (
        Organization.objects.alias(acronym_lower=Lower("acronym"))
        .filter(Q(name_key__in=names | acronyms) | Q(acronym_lower__in=acronyms | keys))
        .order_by("pk")
    )
    by_key, by_acronym = defaultdict(list), defaultdict(list)
    for record in records:
        by_key[record.name_key.removeprefix("the ")].append(record)
        if record.acronym:
            by_acronym[record.acronym.casefold()].append(record)
    found = []
    for org in candidates:
        key, acronym = org.name_key.removeprefix("the "), org.acronym.casefold()
        near = by_key.get(key, []) + by_acronym.get(org.name_key, [])
        if acronym:
            near += by_acronym.get(acronym, []) + by_key.get(acronym, [])
        matches: dict[int, Match] = {}
        for record in near:
            same, reasons = organization_relation(org, record)
            if reasons and record.pk not in matches:
                matches[record.pk] = Match(record, tuple(reasons), same)
        found.append(_in_order(matches))
    return found


# -- A claim on an organization -----------------------------------------------

AT_WEBSITE = "at the organization’s website domain"
FREE_MAIL = "a free-mail address"
OTHER_DOMAIN = "not at the organization’s website domain"
NO_WEBSITE = "the organization has no website to compare with"


def claim_address(email: str, website: str) -> str:
    """How far an e-mail address speaks for an organization: is it at the organization's own domain?"""
    domain = email_domain(email)
    if domain in FREE_MAIL_PROVIDERS:
        return FREE_MAIL
    site = website_domain(website) if website else ""
    if not site:
        return NO_WEBSITE
    if domain == site or domain.endswith(f".{site}"):
        return AT_WEBSITE
    return OTHER_DOMAIN


# -- The same rules as SQL, for the moderation queue --------------------------


def near_organizations(outer: str = "organization") -> QuerySet:
    """
    For Exists(): organizations other than the one at `outer` (an OuterRef path)
    that are the same or near by name or acronym — `organization_relation`
    without the spelling distance, which `close_organizations` adds per page.
    """
    from django.db.models import OuterRef

    key = OuterRef(f"{outer}__name_key")
    acronym = Lower(OuterRef(f"{outer}__acronym"))
    return (
        Organization.objects.exclude(pk=OuterRef(f"{outer}_id"))
        .alias(acronym_lower=Lower("acronym"), the_key=Concat(Value("the "), "name_key"))
        .filter(
            Q(name_key=key)
            | Q(name_key=Concat(Value("the "), key))
            | Q(the_key=key)
            | Q(acronym_lower=key)
            | Q(acronym_lower=acronym, acronym_lower__gt="")
            | Q(name_key=acronym)
        )
    )


def namesakes_of(person: Individual) -> QuerySet:
    """
    Other individuals whose names are equal to `person`'s but for case, accents
    and punctuation (near), or that look the same on a printed list (the TR39
    skeleton, `Individual.name_skeleton`: "Grace Impоrted" with a Cyrillic "о").
    """
    same = Q(name_key=person.name_key)
    if person.name_skeleton:
        same |= Q(name_skeleton=person.name_skeleton)
    return Individual.objects.filter(same).exclude(pk=person.pk)


def namesakes(outer: str = "individual") -> QuerySet:
    """
    For Exists(): other individuals with the name key or the look (name
    skeleton) of the one at `outer` (an OuterRef path), as `namesakes_of`.
    """
    from django.db.models import OuterRef

    look_alike = Q(name_skeleton=OuterRef(f"{outer}__name_skeleton")) & ~Q(name_skeleton="")
    return Individual.objects.filter(Q(name_key=OuterRef(f"{outer}__name_key")) | look_alike).exclude(
        pk=OuterRef(f"{outer}_id")
    )


def close_organizations(organizations: list[Organization]) -> dict[int, int]:
    """
    For each of `organizations` (a page of the moderation queue), another
    organization whose name is a letter or two away, if there is one:
    {organization pk: other pk}. Two queries, whatever the number given.
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
        for _, _distance, j in sorted(matches, key=lambda match: match[1]):
            pk, key, country = rows[j]
            if pk == org.pk or (min(pk, org.pk), max(pk, org.pk)) in dismissed:
                continue
            if _close_spelling(org.name_key, key, _code(org.country), country):
                found[org.pk] = pk
                break
    return found


# -- The "possible duplicates" pages ------------------------------------------


@dataclass
class DuplicatePair:
    first: Signatory
    second: Signatory
    reasons: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "organization" if isinstance(self.first, Organization) else "individual"


def _dismissed(kind: str) -> set[tuple[int, int]]:
    return set(DismissedDuplicate.objects.filter(kind=kind).values_list("first_id", "second_id"))


@functools.cache
def _segments(length: int, parts: int) -> tuple[tuple[int, int], ...]:
    """(start, length) of `parts` consecutive segments of a key of `length`, the last ones a letter longer."""
    base, longer = divmod(length, parts)
    found, start = [], 0
    for part in range(parts):
        size = base + (part >= parts - longer)
        found.append((start, size))
        start += size
    return tuple(found)


class CloseSpellings:
    """
    The keys, among those given, whose spelling is close to a key
    (`_close_spelling`'s limit, countries aside), found without measuring the
    key against every other.

    The filter is the pigeonhole rule of Pass-Join (Li, Deng, Wang and Feng,
    VLDB 2011): cut a key into k + 1 segments; a key at most k edits away
    leaves one segment untouched, at most k places from where it was, so it
    holds that segment there. Each key is filed by its segments, looked up by
    the slices of another that could be one, and only those candidates are
    measured, by rapidfuzz. Keys of MIN_FUZZY_LENGTH to 16 letters are filed
    for one edit, those of 16 or more for two (a 15- and a 16-letter key may
    be one edit apart). tests/test_duplicates.py checks it against
    measuring every pair.
    """

    def __init__(self, keys: Iterable[str]):
        self._filed: dict[int, dict[tuple[int, int, str], list[str]]] = {
            1: defaultdict(list),
            2: defaultdict(list),
        }
        for key in set(keys):
            # Filed for one edit only up to 16 letters: only keys of 15 or fewer look there.
            for k in range(1 if len(key) <= 16 else 2, max_distance(len(key)) + 1):
                for part, (start, size) in enumerate(_segments(len(key), k + 1)):
                    self._filed[k][len(key), part, key[start : start + size]].append(key)

    def near(self, key: str) -> set[str]:
        candidates: set[str] = set()
        for k in range(1 if len(key) <= 16 else 2, max_distance(len(key)) + 1):
            filed = self._filed[k]
            for length in range(len(key) - k, len(key) + k + 1):
                for part, (start, size) in enumerate(_segments(length, k + 1)):
                    for at in range(max(0, start - k), min(start + k, len(key) - size) + 1):
                        candidates.update(filed.get((length, part, key[at : at + size]), ()))
        candidates.discard(key)
        most = max_distance(len(key))
        found = process.extract(key, candidates, scorer=Levenshtein.distance, score_cutoff=most, limit=None)
        # Two edits are near only between keys of 16 letters or more.
        return {other for other, distance, _ in found if distance <= min(most, max_distance(len(other)))}


def _duplicate_pairs(
    records: QuerySet, fields: list[str], blocks, relation, kind: str, limit: int
) -> list[DuplicatePair]:
    """
    Up to `limit` pairs of `model`'s records that `relation` finds the same or
    near, newest first: those are the ones that just arrived from a form or a
    file. Candidates are records that share a block (an exact key, from
    `blocks(row)`) or whose name keys are a letter or two apart; each record is
    compared with the older candidates only, so the page stops as soon as it
    has `limit` pairs. The rules read `fields` of each record; only the
    records shown are read in full.
    """
    model = records.model
    rows = {row["pk"]: row for row in records.values("pk", "name_key", *fields)}
    by_block: dict[str, list[int]] = defaultdict(list)
    by_key: dict[str, list[int]] = defaultdict(list)
    row_blocks = {}
    for pk, row in rows.items():
        row_blocks[pk] = blocks(row)
        by_key[row["name_key"]].append(pk)
        for block in row_blocks[pk]:
            by_block[block].append(pk)
    near = functools.cache(CloseSpellings(by_key).near)  # once per name, however many namesakes
    dismissed = _dismissed(kind)

    @functools.cache
    def record(pk: int) -> Signatory:
        return model(**rows[pk])

    def candidates():
        for b in sorted(rows, reverse=True):
            older = {a for block in row_blocks[b] for a in by_block[block] if a < b}
            older.update(a for key in near(rows[b]["name_key"]) for a in by_key[key] if a < b)
            yield from ((a, b) for a in sorted(older, reverse=True) if (a, b) not in dismissed)

    found = []
    for a, b in candidates():
        _same, reasons = relation(record(a), record(b))
        if reasons:
            found.append((a, b, reasons))
            if len(found) >= limit:
                break
    shown = model.objects.in_bulk({pk for a, b, _ in found for pk in (a, b)})
    return [DuplicatePair(shown[a], shown[b], reasons) for a, b, reasons in found]


def organization_duplicates(limit: int = 200) -> list[DuplicatePair]:
    """Pairs of organizations that are the same or probably the same, for staff to merge or dismiss."""

    def blocks(org: dict) -> list[str]:
        acronym = org["acronym"].casefold()
        found = [f"name:{org['name_key'].removeprefix('the ')}", f"acronym:{org['name_key']}"]
        return found + ([f"acronym:{acronym}"] if acronym else [])

    return _duplicate_pairs(
        Organization.objects.all(),
        ["acronym", "country"],
        blocks,
        organization_relation,
        DismissedDuplicate.Kind.ORGANIZATION,
        limit,
    )


def individual_duplicates(limit: int = 200) -> list[DuplicatePair]:
    """Pairs of individuals on file that are probably the same person, for staff to merge or dismiss."""
    return _duplicate_pairs(
        # Records whose name was deleted ("Erased signatory #12") are nobody's duplicates.
        Individual.objects.filter(forgotten_at__isnull=True),
        ["canonical_email", "country"],
        lambda person: [f"name:{person['name_key']}"],
        individual_relation,
        DismissedDuplicate.Kind.INDIVIDUAL,
        limit,
    )


def duplicate_dismiss(*, kind: str, first_id: int, second_id: int, user) -> DismissedDuplicate:
    """Staff say the two records are different: the pair is not proposed again."""
    low, high = sorted((first_id, second_id))
    dismissed, _ = DismissedDuplicate.objects.get_or_create(
        kind=kind, first_id=low, second_id=high, defaults={"dismissed_by": user}
    )
    return dismissed


def canonical(email: str) -> str:
    """The mailbox an address reaches (see normalize.canonical_email); "" for no address."""
    return canonical_email(email) if email.strip() else ""
