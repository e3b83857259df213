"""The signer: confirm, withdraw, erase; and the entry a merge kept in their signature's place."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from letters.lifecycle.corrections import correction_confirmed, corrections_end
from letters.lifecycle.entry import speaks_for_signer, unverified_records, vouched
from letters.lifecycle.rules import (
    SigningClosed,
    clean_reason,
    forgotten,
    lock_one,
    log_action,
    namesake_listed,
    needs_approval,
    save_fields,
)
from letters.models import Correction, Delivery, Signature, merged_targets
from letters.outputs import cache
from letters.privacy import (
    NEVER_PRINTED_NAME,
    SIGNATURE_PRIVATE_FIELDS,
    disputes_scrub,
    history_scrub_signer,
    individual_forget,
    notes_scrub,
    private_values,
    records_merged_into,
    signatory_erase,
    signature_disputes,
)
from signatories import identity
from signatories.models import Individual
from signatories.normalize import canonical_email


def signature_confirm(*, signature: Signature) -> Signature:
    """
    The signer pressed the button behind the confirmation link: a pending
    signature is confirmed — `confirmed_at` and `signed_at` now — with the
    correction submitted together with it, and approved unless it waits for
    staff. Confirming again, after a withdrawal or rejection, or once the
    signer's name was deleted (`forgotten`), changes nothing.
    Raises SigningClosed when the letter closed before the signer confirmed.
    """
    with transaction.atomic():
        signature = lock_one(signature)
        if signature.status != Signature.Status.PENDING or signature.withdrawn_at or signature.erased_at:
            return signature
        if forgotten(signature.signatory):
            return signature
        if not signature.letter.is_accepting_signatures():
            raise SigningClosed("The letter closed to new signatures before this one was confirmed.")
        now = timezone.now()
        # Read before the confirmation vouches for the record this signer may have made.
        signature.verification = signature.verification or domain_verification(signature)
        signature.confirmed_at = now
        # A web signature is valid from the moment its owner confirms it.
        signature.signed_at = now
        if needs_approval(signature) or namesake_listed(signature) or not _on_own_record(signature):
            signature.status = Signature.Status.CONFIRMED
        else:
            signature.status = Signature.Status.APPROVED
            signature.approved_at = now
        corrections = signature.corrections.filter(with_signature=True, status=Correction.Status.PENDING)
        for correction in corrections:
            correction_confirmed(correction, signature, now)
        save_fields(signature, ["status", "confirmed_at", "signed_at", "approved_at", "verification"])
    return signature


def domain_verification(signature: Signature) -> str:
    """
    The one rule of `Signature.Verification.DOMAIN`: an organization's signature
    confirmed from an address at the website domain on the organization's
    record, where someone else stands behind that record: a signature of it
    that speaks for it (`vouched`: imported, entered by staff, confirmed), or,
    without other signatures, staff who made it. A website the signer typed
    into the form themselves (the record their signup made) proves nothing.
    """
    organization = signature.organization
    if organization is None or not signature.contact_email:
        return ""
    if identity.claim_address(signature.contact_email, organization.website) != identity.AT_WEBSITE:
        return ""
    others = Signature.objects.filter(organization=organization).exclude(pk=signature.pk)
    if others.exists():
        return Signature.Verification.DOMAIN if others.filter(vouched()).exists() else ""
    made_by_signer = canonical_email(organization.contact_email) == signature.contact_mailbox
    return "" if made_by_signer else Signature.Verification.DOMAIN


def _on_own_record(signature: Signature) -> bool:
    """
    Whether a web signature confirmed now stands on its signer's own record:
    one of unconfirmed claims (made from this very form), or the one whose
    address the link just proved. A merge of namesakes may have kept a
    stranger's never-confirmed claim on someone else's record (Jane's, with
    Jane's address): the link proves the stranger's address, not Jane's
    name, so it waits for staff instead of listing Jane where she never signed.
    """
    if signature.individual_id is None or signature.source != Signature.Source.FORM:
        return True
    record = signature.individual
    if bool(signature.contact_mailbox) and signature.contact_mailbox == record.canonical_email:
        return True
    return record.pk in unverified_records(Individual, [record.pk])


def signature_withdraw(*, signature: Signature, reason: str = "", user=None) -> Signature:
    """
    Withdraw a signature now, at the signer's request (through their page, or
    staff acting on their word). It stays on the lists of the days before
    (docs/design.md, "The list as of a day"); withdrawing twice keeps the first date.
    """
    with transaction.atomic():
        signature = lock_one(signature)
        if signature.withdrawn_at is not None:
            return signature
        signature.withdrawn_at = timezone.now()
        signature.withdrawal_reason = clean_reason(reason)
        save_fields(signature, ["withdrawn_at", "withdrawal_reason"])
        corrections_end([signature.pk], signature.withdrawn_at)
        log_action(
            user, [signature], "Marked withdrawn" + (f": {signature.withdrawal_reason}" if reason else ".")
        )
    return signature


def signature_erase(*, signature: Signature, user=None) -> Signature:
    """
    "Remove my name from every list, including earlier days": the signer's
    entry on the letter (`entry_signatures`: the signature, the ones merged
    with it, and a person's other periods on the letter) leaves the lists of
    every day and the public pages of past deliveries; the signer's private
    data (address, IP hash, names, notes, the corrections they proposed) is
    deleted, and so is the signatory record's when no other signature needs
    it. The admin history keeps that an erasure happened and loses the name
    and the address. Nothing brings it back.
    """
    with transaction.atomic():
        signature = lock_one(signature)
        if signature.erased_at is not None:
            return signature
        now = timezone.now()
        group = [signature, *(other for other in entry_signatures(signature) if other.pk != signature.pk)]
        # On a public list of some day, or a delivery's (approval is the only way there; approved_at stays).
        listed = any(
            each.status == Signature.Status.APPROVED or each.approved_at is not None for each in group
        )
        # Who the signer is, scrubbed from any entry of the history; what they
        # wrote (notes, a reason), only from the entries about them: free text
        # such as "Approved" also stands in entries about other signers. An
        # organization's name is its own and public: it stays in the history.
        names = {signature.signatory.name} if signature.individual_id else set()
        texts = set()
        for each in group:
            names |= {each.contact_email, each.contact_mailbox, each.signer_name, each.ip_hash}
            texts |= private_values(each)
            each.erased_at = now
            each.withdrawn_at = each.withdrawn_at or now
            # The same private fields a retention purge empties.
            for field, empty in SIGNATURE_PRIVATE_FIELDS.items():
                setattr(each, field, empty)
            save_fields(each, ["erased_at", "withdrawn_at", *SIGNATURE_PRIVATE_FIELDS])
            for correction in each.corrections.all():
                names.add(correction.name)
                texts.add(correction.title)
            each.corrections.all().delete()
        # A dispute of the entry may be the signer's own words: gone with the rest.
        disputes_scrub(signature_disputes(each.pk for each in group))
        if any(speaks_for_signer(each) for each in group):
            held_names, held_texts = signatory_erase(signature, names)
            merged_away = records_merged_into(signature.individual_id) if signature.individual_id else set()
            history_scrub_signer(group, names | held_names, (texts | held_texts) - names, merged_away)
            notes_scrub(group, names | held_names, {signature.individual_id, *merged_away} - {None})
        else:
            _unconfirmed_erase(signature, group, names | texts)
        log_action(user, group, "Erased at the signer’s request.")
        if listed:
            # Pages and PDFs of earlier states print the name: none is served again (the
            # roster's version moved on), and none is kept. An entry never listed is on
            # none of them: its erasure costs the letter's readers no page and no PDF.
            letter_id = signature.letter_id
            transaction.on_commit(lambda: (cache.forget_letter(letter_id), cache.forget_pdfs(letter_id)))
    return signature


def _unconfirmed_erase(signature: Signature, group: list[Signature], typed: set[str]) -> None:
    """
    The rest of an erasure of signatures never confirmed: what was typed
    ("Approved", "Demo contact", someone else's name) proves nothing about
    anyone, so it goes from the entries about these signatures only, never
    from other entries, other signatures' notes or a record others vouched for
    (an organization's contact, a person a merge tied the claim to). The
    record is emptied only when it is the claimant's own: every signature on
    it is an unconfirmed claim.
    """
    model = type(signature.signatory)
    own_record = signature.signatory.pk in unverified_records(model, [signature.signatory.pk])
    held_names, held_texts, merged_away = set(), set(), set()
    if own_record:
        held_names, held_texts = signatory_erase(signature, set())
        if signature.individual_id:
            merged_away = records_merged_into(signature.individual_id)
    history_scrub_signer(group, set(), typed | held_names | held_texts, merged_away, own_records=own_record)
    individual_ids = {signature.individual_id, *merged_away} - {None} if own_record else set()
    notes_scrub(group, set(), individual_ids)


def entry_signatures(signature: Signature) -> list[Signature]:
    """
    The signatures, locked, that are the signer's entry on the letter, as an
    erasure removes it: a person's every signature on it (each period, and
    those a merge folded into another, which it moved to the person kept); for
    an organization's claim, those merged with it (other people may sign for
    the organization).
    """
    others = Signature.objects.select_for_update(of=("self",)).select_related(
        "letter", "individual", "organization"
    )
    if signature.individual_id:
        if not speaks_for_signer(signature):
            # Never confirmed: the entry is what was typed, not the person a merge may have tied it to.
            return list(others.filter(pk=signature.pk))
        return list(others.filter(letter_id=signature.letter_id, individual_id=signature.individual_id))
    root = signature_kept(signature)
    found, frontier = {root.pk}, {root.pk}
    while frontier:
        # Only the signer's own: other people's claims a merge folded in are theirs.
        merged = Signature.objects.filter(merged_into__in=frontier, contact_mailbox=root.contact_mailbox)
        frontier = set(merged.values_list("pk", flat=True)) - found
        found |= frontier
    return list(others.filter(pk__in=found))


def signature_kept(signature: Signature) -> Signature:
    """
    The signature that is the signer's entry now: `signature`, or the one a
    merge kept in its place when it is the same signer's (`same_signer`). The
    signer's page acts on it, so the links of every e-mail keep working after
    staff merge duplicates, and never reach someone else's entry.
    """
    target = merged_targets([signature.pk]).get(signature.pk)
    if target is None:
        return signature
    kept = Signature.objects.select_related("letter", "individual", "organization").get(pk=target)
    return kept if same_signer(signature, kept) else signature


def same_signer(signature: Signature, other: Signature) -> bool:
    """
    Whether two signatures that a merge joined were made by one signer: a
    person's when its signer confirmed it or staff entered it (staff merged
    the records as one person, often on a name alone, which a stranger may
    have typed); claims on an organization only from one mailbox, since
    other people may sign for it.
    """
    if signature.individual_id is not None:
        # A web signature never confirmed is what a stranger may have typed: its links act on it alone.
        return speaks_for_signer(signature)
    return bool(signature.contact_mailbox) and signature.contact_mailbox == other.contact_mailbox


def never_printed_forget(*, letter_ids: list[int], dry_run: bool = False) -> int:
    """
    For the retention purge of the letters `letter_ids`: the people who signed
    them but whose name no day's list printed (never confirmed, never
    approved, rejected) and nothing else holds (a signature on a letter still
    within retention, an approved one, one a delivery froze). Their record is
    emptied as an erasure empties it, with the corrections they proposed, the
    admin history's entries about them and other signatures' notes naming their record. Their
    signatures stay, nameless, in the letter's counts. Returns how many people.
    """
    live = Signature.objects.filter(erased_at__isnull=True, individual__isnull=False)
    printed = live.filter(Q(status=Signature.Status.APPROVED) | ~Q(letter_id__in=letter_ids))
    unprinted = (
        live.filter(letter_id__in=letter_ids, individual__forgotten_at__isnull=True)
        .exclude(individual_id__in=printed.values("individual_id"))
        .values("individual_id")
    )
    # Subqueries, not lists: a viral letter leaves tens of thousands who never confirmed.
    rows = list(live.filter(individual_id__in=unprinted).values_list("pk", "letter_id", "individual_id"))
    delivered: set[int] = set()
    for ids in Delivery.objects.filter(letter_id__in={letter for _, letter, _ in rows}).values_list(
        "signature_ids", flat=True
    ):
        delivered.update(ids)
    people = sorted({person for _, _, person in rows} - {person for pk, _, person in rows if pk in delivered})
    if dry_run:
        return len(people)
    for at in range(0, len(people), 500):
        for person in Individual.objects.filter(pk__in=people[at : at + 500]):
            _never_printed_forget_one(person)
    return len(people)


def _never_printed_forget_one(person: Individual) -> None:
    with transaction.atomic():
        group = list(Signature.objects.select_related("individual").filter(individual=person))
        names, texts = individual_forget(person, NEVER_PRINTED_NAME)
        for correction in Correction.objects.filter(signature__individual=person):
            names.add(correction.name)
            texts.add(correction.title)
        Correction.objects.filter(signature__individual=person).delete()
        merged_away = records_merged_into(person.pk)
        # Out of the entries about them and the notes that name their record, not out of every
        # text in the database: a name no list printed, often a sign-up's "Lee" or "test", also
        # spells parts of other people's names and words, where an erasure's real name does not.
        history_scrub_signer(group, set(), names | texts, merged_away)
        notes_scrub(group, set(), {person.pk, *merged_away})


def signature_publication_set(*, signature: Signature, unnamed: bool, user=None) -> Signature:
    """
    The signer chose how the list shows them: named, or counted without a name
    for their safety (docs/design.md, "Signers who cannot be named"). Either way
    at once and on every day's list, as the signature was vetted by staff
    (`needs_approval`) and the choice only hides or shows what was approved.
    A delivery keeps what it froze.
    """
    with transaction.atomic():
        signature = lock_one(signature)
        if signature.unnamed == unnamed or signature.erased_at is not None:
            return signature
        signature.unnamed = unnamed
        save_fields(signature, ["unnamed"])
        log_action(user, [signature], "Listed unnamed." if unnamed else "Listed by name.")
    return signature


def signer_family_name_set(*, signature: Signature, family_name: str) -> Individual | None:
    """
    The family name an individual gives for the alphabetical order: it moves
    them on every list that prints them (a sort name set by staff still wins).
    """
    if signature.individual_id is None:
        return None
    with transaction.atomic():
        signature = lock_one(signature)
        person = Individual.objects.select_for_update().get(pk=signature.individual_id)
        person.family_name = family_name
        person.full_clean(exclude=["email"], validate_unique=False, validate_constraints=False)
        person.save(update_fields=["family_name"])
    return person
