"""
The import's reads and writes a batch of rows at a time: the same few queries
for a batch of ten rows or of a thousand (docs/design.md, "Importing").

Who a row is follows the one identity rule, `signatories.identity`'s pairwise
`individual_relation` and `organization_relation`; only the look-up of the
candidates is batched here (the per-record look-ups there cost three queries a
row). The new signatures are checked and entered by
letters.lifecycle.entry's `entries_errors` and `signatures_enter`: the rules of
`entry_errors` and `signature_enter`, for a whole batch at once.
"""

from collections import defaultdict
from collections.abc import Iterable

from letters import lifecycle
from letters.models import Letter, Signature
from signatories import identity
from signatories.models import Individual, Organization

# Rows read and matched together, and signatures written together.
BATCH_SIZE = 500


def individual_matches(letter: Letter, candidates: list[Individual]) -> list[list[identity.Match]]:
    """For each candidate, the individuals that are it or near it (`identity.individual_matches_many`)."""
    vouched = Signature.objects.filter(lifecycle.vouched(), letter=letter).values("individual_id")
    return identity.individual_matches_many(candidates, on_letter=Individual.objects.filter(pk__in=vouched))


def organization_matches(candidates: list[Organization]) -> list[list[identity.Match]]:
    return identity.organization_matches_many(candidates)


def signatures_on_letter(letter: Letter, kind: str, pks: Iterable[int]) -> dict[int, Signature]:
    """{signatory: the signature by which it is on `letter` already} (`lifecycle.signature_on_letter`)."""
    signatures = Signature.objects.filter(letter=letter, **{f"{kind}__in": list(pks)})
    if kind == "organization":
        signatures = signatures.exclude(lifecycle.unlisted_claim())
    else:
        signatures = signatures.filter(lifecycle.vouched())
    latest: dict[int, Signature] = {}
    for signature in signatures.order_by("pk"):
        latest[getattr(signature, f"{kind}_id")] = signature
    return latest


def unlisted_claims(letter: Letter, pks: Iterable[int]) -> dict[int, list[Signature]]:
    """{organization: its claims on `letter` that were never listed}, which an import leaves as they are."""
    claims = defaultdict(list)
    signatures = Signature.objects.filter(
        lifecycle.unlisted_claim(), letter=letter, organization__in=list(pks)
    )
    for claim in signatures.order_by("pk"):
        claims[claim.organization_id].append(claim)
    return claims
