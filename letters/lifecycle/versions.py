"""
What each signer signed: a letter's text versions, the one function that
changes a signed text, re-consent, and the word diffs shown to signers
(docs/design.md, "What each signer signed").
"""

import difflib
import html
import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from letters.lifecycle.rules import lock_one, save_fields
from letters.models import TEXT_FIELDS, Letter, LetterVersion, Signature

# A signer who may still be asked: listed, or waiting to be (confirmation, approval).
ASKABLE = Q(withdrawn_at__isnull=True, erased_at__isnull=True, merged_into__isnull=True) & ~Q(
    status=Signature.Status.REJECTED
)


def letter_text_change(
    *, letter: Letter, user, material: bool, note: str = "", **texts: str
) -> LetterVersion | None:
    """
    Change the words of `letter` (`texts`: any of title, subject, salutation,
    body, closing). Before anyone signed it is an edit like any other and
    returns None. Once someone has, it makes a new version: editorial (no
    change of meaning, nobody is asked) or `material`, after which every
    signer of an earlier version who may still be asked (`ASKABLE`) is
    returned in the version's `asked` (signature ids) for the caller to
    e-mail, and is marked "signed an earlier version" until they agree
    (`signature_reconsent`) or withdraw. A note for signers is required then.
    """
    unknown = set(texts) - set(TEXT_FIELDS)
    if unknown:
        raise ValueError(f"Not a text field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        letter = Letter.objects.select_for_update().get(pk=letter.pk)
        changed = {field: value for field, value in texts.items() if getattr(letter, field) != value}
        if not changed:
            return None
        if not letter.text_version and not letter.signatures.exists():
            for field, value in changed.items():
                setattr(letter, field, value)
            letter.full_clean(exclude=["slug"], validate_unique=False, validate_constraints=False)
            letter.save(update_fields=[*changed, "updated_at"])
            return None
        if not note.strip():
            raise ValidationError(
                {"note": "Say for signers what changed and why: it goes with the new text."}
            )
        before = LetterVersion.current(letter)
        # Anyone signed before version 1 existed signed the text it keeps.
        letter.signatures.filter(text_version__isnull=True).update(text_version=before.number)
        now = timezone.now()
        version = LetterVersion.objects.create(
            letter=letter,
            number=before.number + 1,
            created_at=now,
            created_by=user if getattr(user, "pk", None) else None,
            note=note.strip(),
            material=material,
            **{field: changed.get(field, getattr(before, field)) for field in TEXT_FIELDS},
        )
        for field, value in changed.items():
            setattr(letter, field, value)
        letter.full_clean(exclude=["slug"], validate_unique=False, validate_constraints=False)
        letter.save(update_fields=[*changed, "updated_at"])
        numbers = {"text_version": version.number, "text_version_at": now}
        if material:
            numbers["material_version"] = version.number
        Letter.objects.filter(pk=letter.pk).update(**numbers)
        for field, value in numbers.items():
            setattr(letter, field, value)
        # Marks appear (or the version the page names changes): a new list.
        Letter.objects.filter(pk=letter.pk).roster_changed()
        version.asked = (
            list(
                letter.signatures.filter(ASKABLE, text_version__lt=version.number)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if material
            else []
        )
    return version


def signature_reconsent(*, signature: Signature) -> Signature:
    """
    "Keep my name under the new text": the signer agrees to the letter's
    current version, and the mark goes from today's list on. Earlier days'
    lists keep it (`earlier_text_versions` says until when they held which).
    Agreeing again, or after a withdrawal, erasure or rejection, changes nothing.
    """
    with transaction.atomic():
        signature = lock_one(signature)
        current = Letter.objects.filter(pk=signature.letter_id).values_list("text_version", flat=True).get()
        held = signature.text_version or 1
        if not signature.letter.text_version or held >= current or not _askable(signature):
            return signature
        signature.earlier_text_versions = [
            *signature.earlier_text_versions,
            [held, timezone.now().isoformat()],
        ]
        signature.text_version = current
        save_fields(signature, ["text_version", "earlier_text_versions"])
    return signature


def _askable(signature: Signature) -> bool:
    return (
        signature.withdrawn_at is None
        and signature.erased_at is None
        and signature.merged_into_id is None
        and signature.status != Signature.Status.REJECTED
    )


def needs_reconsent(signature: Signature) -> bool:
    """Whether the signer's page asks them to agree to the new text (or withdraw)."""
    return _askable(signature) and (signature.text_version or 1) < signature.letter.material_version


def letter_version(letter: Letter, number: int) -> LetterVersion | None:
    return LetterVersion.objects.filter(letter=letter, number=number).first()


# -- word diffs ---------------------------------------------------------------

WORDS = re.compile(r"\S+|\s+")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """`old` → `new` as [(op, text)], op "=", "-" or "+", compared word by word (spaces kept)."""
    before, after = WORDS.findall(old), WORDS.findall(new)
    parts = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(("=", "".join(before[i1:i2])))
            continue
        if i2 > i1:
            parts.append(("-", "".join(before[i1:i2])))
        if j2 > j1:
            parts.append(("+", "".join(after[j1:j2])))
    return parts


def version_text(version) -> str:
    """A version's words as one text (title, subject, salutation, body, closing), for a diff."""
    return "\n\n".join(value for field in TEXT_FIELDS if (value := getattr(version, field)))


def diff_text(old, new) -> str:
    """The diff for an e-mail's plain text: [-removed-] {+added+}."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return "".join(marks[op].format(text) for op, text in word_diff(version_text(old), version_text(new)))


def diff_html(old, new) -> str:
    """The diff for a page or an HTML e-mail: <del> and <ins>, every word escaped."""
    tags = {"=": "{}", "-": "<del>{}</del>", "+": "<ins>{}</ins>"}
    parts = word_diff(version_text(old), version_text(new))
    return "".join(tags[op].format(html.escape(text).replace("\n", "<br>\n")) for op, text in parts)
