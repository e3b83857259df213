"""
What is private, and how it goes. The fields a retention purge or an erasure
empties (never printed: addresses, IP hashes, signers' names, notes, reasons),
and what else must lose them: a person's record, the admin history that quotes
them, other signatures' notes that name their record. The lifecycle
(letters/lifecycle: signature_erase, never_printed_forget) and the retention
schedule (letters/lifecycle/retention.py) call these; nothing here decides
whether a signature may be erased.
"""

import itertools
import re
from collections.abc import Iterable

from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from letters.models import Dispute, Signature
from signatories import identity
from signatories.models import Individual

# What a purge empties on each signature: private, never printed.
SIGNATURE_PRIVATE_FIELDS = {
    "contact_email": "",
    "contact_mailbox": "",
    "pending_contact_email": "",
    "ip_hash": "",
    "signer_name": "",
    "notes": "",
    "contact_consent": False,
    "withdrawal_reason": "",
    # Staff's words about the signer ("looked fake"): theirs to keep no longer than the rest.
    "rejection_reason": "",
    # Who authorized an organization's signature (a person's name and role): that it was
    # verified, and by whom of the staff, stays.
    "authorized_by_name": "",
    "authorized_by_role": "",
    "authorized_how": "",
}
INDIVIDUAL_PRIVATE_FIELDS = {"email": "", "canonical_email": "", "notes": ""}
# What a reader who disputed an entry gave us: their address and their words.
DISPUTE_PRIVATE_FIELDS = {"contact_email": "", "message": ""}
ORGANIZATION_PRIVATE_FIELDS = {"contact_name": "", "contact_email": ""}

# What the admin history shows in place of a private value it quoted.
ERASED = "[erased]"
# How many signatures a purge reads, with their admin history, at a time.
BATCH = 500


def private_values(signature: Signature) -> set[str]:
    """The texts of its signer `signature` holds that a purge or an erasure deletes."""
    values = (getattr(signature, field) for field in SIGNATURE_PRIVATE_FIELDS)
    return {value for value in values if isinstance(value, str)}


def history_scrub(entry: LogEntry, words: Iterable[str]) -> None:
    """
    An entry of the admin history without the private values `words` it quotes
    (a withdrawal reason, an address, a name): each becomes ERASED. What staff
    did, and when, stays. The caller saves the entry.
    """
    for word in sorted((word for word in words if word and len(word) >= 3), key=len, reverse=True):
        entry.change_message = entry.change_message.replace(word, ERASED)
        entry.object_repr = entry.object_repr.replace(word, ERASED)


def history_purge(signatures: QuerySet) -> None:
    """The admin history of `signatures` without the private values it quotes of them."""
    signature_type = ContentType.objects.get_for_model(Signature)
    fields = ["pk", *SIGNATURE_PRIVATE_FIELDS, "individual__name", "organization__name"]
    rows = (
        signatures.select_related("individual", "organization")
        .order_by("pk")
        .only(*fields)
        .iterator(chunk_size=BATCH)
    )
    while batch := {signature.pk: signature for signature in itertools.islice(rows, BATCH)}:
        ids = [str(pk) for pk in batch]
        for entry in LogEntry.objects.filter(content_type=signature_type, object_id__in=ids):
            signature = batch[int(entry.object_id)]
            before = (entry.change_message, entry.object_repr)
            # An individual's own name, which they signed with, stays printed.
            history_scrub(entry, private_values(signature) - {signature.signatory.name})
            if (entry.change_message, entry.object_repr) != before:
                entry.save(update_fields=["change_message", "object_repr"])


def signatory_erase(signature: Signature, signer: set[str]) -> tuple[set[str], set[str]]:
    """
    Empty what the signatory's record holds of the signer when no signature
    that is not erased still needs it: a person's name, title and address; an
    organization's contact (its name is its own, public, and off the lists
    already). An organization's contact goes at once when it is the signer's
    (`signer`: their names and addresses), whoever else signs for it.
    Returns what it held: the names and addresses, and the texts.
    """
    signatory = signature.signatory
    if signatory.signatures.filter(erased_at__isnull=True).exists():
        if isinstance(signatory, Individual):
            return set(), set()
        theirs = {
            field
            for field, value in [
                ("contact_name", signatory.contact_name),
                ("contact_email", identity.canonical(signatory.contact_email)),
            ]
            if value and value in signer
        }
        if not theirs:
            return set(), set()
        held = {signatory.contact_name, signatory.contact_email}
        signatory.contact_name = signatory.contact_email = ""
        signatory.save(update_fields=["contact_name", "contact_email", "updated_at"])
        return held, set()
    if isinstance(signatory, Individual):
        return individual_forget(signatory, ERASED_NAME)
    texts = {signatory.notes}
    names = {signatory.contact_name, signatory.contact_email}
    signatory.notes = signatory.contact_name = signatory.contact_email = ""
    signatory.save()
    return names, texts


# What a person's record says in place of a name that is gone.
ERASED_NAME = "Erased signatory #{pk}"
NEVER_PRINTED_NAME = "Name deleted after retention (#{pk})"


def individual_forget(individual: Individual, label: str) -> tuple[set[str], set[str]]:
    """
    Empty a person's record but for `label` in place of the name. Returns
    what it held: the names and addresses, and the texts.
    """
    names = {individual.name, individual.email, individual.canonical_email, individual.sort_name}
    texts = {individual.notes, individual.title}
    individual.name = label.format(pk=individual.pk)
    individual.title = individual.email = individual.sort_name = individual.country = individual.notes = ""
    individual.forgotten_at = timezone.now()
    individual.save()
    return names, texts


def records_merged_into(individual_id: int) -> set[int]:
    """The records of people merged into `individual_id`, and into those, as the merges' history says."""
    individual_type = ContentType.objects.get_for_model(Individual).pk
    found: set[int] = set()
    frontier = {individual_id}
    while frontier:
        merged = Q()
        for pk in frontier:
            merged |= Q(change_message__startswith=f"Merged into #{pk} ")
        ids = LogEntry.objects.filter(merged, content_type_id=individual_type, action_flag=DELETION)
        frontier = {int(pk) for pk in ids.values_list("object_id", flat=True) if pk.isdigit()} - found
        found |= frontier
    return found


def history_scrub_signer(
    signatures: list[Signature],
    names: set[str],
    texts: set[str],
    merged_away: set[int] = frozenset(),
    *,
    own_records: bool = True,
) -> None:
    """
    The admin history without the signer, in one pass: `names` (names,
    addresses) out of any entry that quotes them, `texts` (notes, a reason, a
    title) out of the entries of the `signatures` and their signatories, and
    the entries of the records `merged_away` into the person's, which quote
    how they spelled their name and title then, emptied but for the merge.
    `own_records`: the signatories' records are the signer's (not when an
    unconfirmed claim sits on a record others vouched for), so their entries
    lose `texts` too.
    """
    words = {value for value in names if value and len(value) >= 3}
    signature_type = ContentType.objects.get_for_model(Signature).pk
    individual_type = ContentType.objects.get_for_model(Individual).pk
    erased = {(signature_type, str(signature.pk)): signature for signature in signatures}
    away = {(individual_type, str(pk)) for pk in merged_away}
    own_keys = (
        set(erased)
        | away
        | {
            (ContentType.objects.get_for_model(type(signature.signatory)).pk, str(signature.signatory.pk))
            for signature in signatures
            if own_records
        }
    )
    own = Q()
    for content_type_id, object_id in own_keys:
        own |= Q(content_type_id=content_type_id, object_id=object_id)
    naming = Q()
    for word in words:
        naming |= Q(change_message__contains=word) | Q(object_repr__contains=word)
    for entry in LogEntry.objects.filter(own | naming if words else own):
        key = (entry.content_type_id, entry.object_id)
        history_scrub(entry, words | texts if key in own_keys else words)
        if key in erased:
            entry.object_repr = f"Signature #{erased[key].pk} ({ERASED})"
        elif key in away:
            entry.object_repr = f"Individual #{entry.object_id} ({ERASED})"
            if entry.action_flag == DELETION:
                entry.change_message = entry.change_message.split(". Held ", 1)[0] + f". Held {ERASED}"
        entry.save(update_fields=["change_message", "object_repr"])


# How a signature's notes name another record (letters.signing.services, `_near_note`).
NOTE_NAMING = r"#{pk} “[^”\n]*”(?: \([^)\n]*\))?"


def notes_scrub(signatures: list[Signature], names: set[str], individual_ids: set[int]) -> None:
    """
    Other signatures' notes without the signer: the notes that name their
    record ("Possible duplicate of individual #12 “Jane Doe” (Belarus)") and
    any quote of `names`, so that nothing ties the erased record to them.
    """
    words = sorted((value for value in names if value and len(value) >= 3), key=len, reverse=True)
    naming = Q()
    for pk in individual_ids:
        naming |= Q(notes__contains=f"individual #{pk} “")
    for word in words:
        naming |= Q(notes__contains=word)
    if not naming:
        return
    pattern = individual_ids and re.compile(
        "individual (" + "|".join(NOTE_NAMING.format(pk=pk) for pk in individual_ids) + ")"
    )
    others = Signature.objects.filter(naming).exclude(pk__in=[signature.pk for signature in signatures])
    changed = []
    for other in others.only("pk", "notes"):
        notes = other.notes
        if pattern:
            notes = pattern.sub(lambda m: f"individual {m.group(1).split(' ', 1)[0]} ({ERASED})", notes)
        for word in words:
            notes = notes.replace(word, ERASED)
        if notes != other.notes:
            other.notes = notes
            changed.append(other)
    Signature.objects.bulk_update(changed, ["notes"], batch_size=500)


def disputes_scrub(disputes: QuerySet) -> int:
    """
    Empty the readers' addresses and messages of `disputes` (a retention purge,
    or an erasure of the disputed entry); what was decided, by whom and when,
    stays. Returns how many held any.
    """
    holding = ~Q(contact_email="") | ~Q(message="")
    return disputes.filter(holding).update(**DISPUTE_PRIVATE_FIELDS)


def signature_disputes(signature_ids: Iterable[int]) -> QuerySet:
    return Dispute.objects.filter(signature_id__in=list(signature_ids))
