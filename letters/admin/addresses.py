"""
Who reads signers' addresses in the staff panel. Organizers, who may export
private data (`letters.export_signature`), read and correct them; Moderators,
who vet signatures, see each address as its domain only ("…@example.org"),
which is what vetting needs (is it at the organization's domain, a free-mail
provider?), and change none: a changed address would receive the signer's
links. Nor do they search by one: a search that finds a row for a typed
address tells whether that person signed (`searchable`).
"""

from django.http import HttpRequest

from signatories.normalize import email_domain

ADDRESSES_PERMISSION = "letters.export_signature"


def sees_addresses(request: HttpRequest) -> bool:
    return request.user.has_perm(ADDRESSES_PERMISSION)


def domain_only(address: str) -> str:
    """ "…@example.org" for an address; "" for none."""
    return f"…@{email_domain(address)}" if address else ""


def shown(request: HttpRequest, names: list[str], hidden: dict[str, str]) -> list[str]:
    """`names` (fields or columns), those in `hidden` replaced by their domain-only twins for a Moderator."""
    if sees_addresses(request):
        return list(names)
    return [hidden.get(name, name) for name in names]


def searchable(request: HttpRequest, fields) -> list[str]:
    """`fields` to search, without the addresses for a Moderator (who may not read them)."""
    if sees_addresses(request):
        return list(fields)
    return [name for name in fields if not name.rpartition("__")[2].endswith("email")]
