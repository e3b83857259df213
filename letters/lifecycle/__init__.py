"""
What a signature may become, and the one place that makes it so.

docs/design.md, "One signatory, one lifecycle": pending → confirmed → approved (a
letter without approval: pending → approved on confirmation), rejected by staff
with a reason, `withdrawn_at` and `erased_at` set at the signer's request (or
by staff on the signer's written request). Every change of a signature's
status, `signed_at`, `withdrawn_at`, erasure or printed text is a function of
this module, whoever asks: the form, an e-mail link, the signer's page, a staff
action (list or change form), an import or a merge. What nobody can do through
any of them: approve a web signature that was never confirmed; clear a
withdrawal or an erasure (the person signs again instead); move a signature to
another letter or signatory (but a merge of duplicates); change the
`signed_at` of a web signature.

Every write runs in one transaction with the rows locked, and leaves an admin
log entry when staff did it. The letter's `roster_version` follows by itself
(letters.models).

The transitions are written by who asks, one module each: `entry` (the form,
staff, an import), `signer` (confirm, withdraw, erase), `corrections`, `staff`
(approve, reject, withdraw, erase a selection) and `merging` (duplicates), on
the shared states and checks of `rules`. `moderation` sorts the queue and
`retention` keeps the schedule of private data; `suspension` takes a
disputed entry off every list and puts it back; what erasure and retention
empty is letters/privacy.py. Callers use the names below.
"""

from letters.lifecycle.corrections import (
    OPEN_CORRECTIONS,
    correction_confirm,
    correction_propose,
    corrections_approve,
    corrections_reject,
)
from letters.lifecycle.entry import (
    EARLIEST_DAY,
    entry_errors,
    listed_signature,
    signature_create,
    signature_enter,
    signature_on_letter,
    speaks_for_signer,
    unlisted_claim,
    unverified_records,
    vouched,
    vouched_individuals,
)
from letters.lifecycle.merging import (
    LetterMergePlan,
    merge_plan,
    rank,
    signatures_merge,
)
from letters.lifecycle.rules import (
    PRINTED_FIELDS,
    RELATED,
    STAFF_EDITABLE_FIELDS,
    Outcome,
    SigningClosed,
    TransitionError,
    approvable,
    clean_reason,
    correction_needs_approval,
    forgotten,
    namesake_listed,
    needs_approval,
    staff_editable_fields,
)
from letters.lifecycle.signer import (
    entry_signatures,
    never_printed_forget,
    same_signer,
    signature_confirm,
    signature_erase,
    signature_kept,
    signature_publication_set,
    signature_withdraw,
    signer_family_name_set,
)
from letters.lifecycle.staff import (
    signatures_approve,
    signatures_erase,
    signatures_reject,
    signatures_withdraw,
)
from letters.lifecycle.suspension import (
    dispute_open,
    signature_reinstate,
    signature_suspend,
    signature_verified_by_invitation,
    signature_verify,
)
from letters.lifecycle.versions import (
    diff_html,
    diff_text,
    letter_text_change,
    letter_version,
    needs_reconsent,
    signature_reconsent,
)
