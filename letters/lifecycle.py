"""
What a signature may become, and the one place that makes it so.

States (PRODUCT.md, "One signatory, one lifecycle"): pending → confirmed →
approved, or rejected by staff; `withdrawn_at` and `erased_at` set at the
signer's request. Every change of a signature's status, `signed_at`,
`withdrawn_at`, erasure or printed text goes through a function of this module,
whoever asks.
"""

from django.db.models import Q

from .models import Signature

# The states staff sort signatures into, as lookups on a signature: the letter
# list and the dashboard count them, the queue filters by them.
BUCKETS: dict[str, tuple[str, dict]] = {
    "awaiting": ("awaiting approval", {"status": Signature.Status.CONFIRMED, "withdrawn_at__isnull": True}),
    "pending": ("unconfirmed e-mail", {"status": Signature.Status.PENDING}),
    "approved": ("approved", {"status": Signature.Status.APPROVED, "withdrawn_at__isnull": True}),
    "withdrawn": ("withdrawn", {"withdrawn_at__isnull": False}),
    "rejected": ("rejected", {"status": Signature.Status.REJECTED}),
}


def bucket_q(key: str, prefix: str = "") -> Q:
    """The bucket `key` as a Q on signatures, or on a relation to them (`prefix="signatures__"`)."""
    return Q(**{f"{prefix}{name}": value for name, value in BUCKETS[key][1].items()})
