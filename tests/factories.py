"""
Small factories, each making one valid object with keyword overrides, and the
helpers tests share (a spreadsheet to import, the letter form's fields, a staff
export): tests import them from here, never from one another.
"""

import datetime as dt
import itertools

from letters.models import Letter, Signature
from letters.spreadsheets.resources import SignatureExportResource
from signatories.models import Individual, Organization

_counter = itertools.count(1)


def make_letter(**fields) -> Letter:
    n = next(_counter)
    defaults = {
        "slug": f"letter-{n}",
        "title": f"Letter {n}",
        "subject": "Re: The matter at hand",
        "salutation": "Dear Minister,",
        "body": "We write to you.[^1]\n\n[^1]: A footnote.",
        "status": Letter.Status.OPEN,
        "timezone": "America/New_York",
        "language": Letter.Language.EN_GB,
    }
    return Letter.objects.create(**(defaults | fields))


def make_individual(name: str = "", **fields) -> Individual:
    return Individual.objects.create(name=name or f"Person {next(_counter)}", **fields)


def make_organization(name: str = "", **fields) -> Organization:
    return Organization.objects.create(name=name or f"Organization {next(_counter)}", **fields)


def signature_row(
    letter: Letter,
    signatory: Individual | Organization,
    signed_at: dt.datetime | None = None,
    status: str = Signature.Status.APPROVED,
    **fields,
) -> Signature:
    """
    A signature row written directly, without the lifecycle (letters.lifecycle):
    the state a test starts from, not a way anyone can sign. Tests of what a
    signature may become go through the lifecycle's functions instead.
    """
    if signed_at is None and status == Signature.Status.APPROVED:
        signed_at = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    return Signature.objects.create(
        letter=letter, status=status, signed_at=signed_at, public_consent=True, **{kind: signatory}, **fields
    )


def sign_in_several_scripts(letter: Letter) -> Letter:
    """Signers whose names are in Latin, Hangul and Arabic (right to left) script, and an organization."""
    signature_row(
        letter,
        make_individual("Lee Yanghee", sort_name="Lee Yanghee", title="Professor, Sungkyunkwan University"),
    )
    signature_row(letter, make_individual("이양희", sort_name="이양희", title="성균관대학교 교수"))
    signature_row(letter, make_individual("فاطمة الزهراء العلوي", sort_name="العلوي", title="باحثة"))
    signature_row(letter, make_individual("Tomás Ojea-Quintana", title="Former UN Special Rapporteur"))
    signature_row(letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"))
    return letter


# -- Shared by several test modules --------------------------------------------

# A spreadsheet as organizers import one.
HEADER = "type,name,title,acronym,country,signed_on,email,sort_name,website\n"
GOOD = (
    HEADER
    + "individual,Lee Yanghee,Former UN Special Rapporteur,,South Korea,2023-09-03,"
    + "lee@example.org,Lee Yanghee,\n"
    + "organization,Amnesty International,,AI,GB,2023-09-02,,,amnesty.org\n"
    + "individual,Tomás Ojea-Quintana,,,ar,2023-09-01,,,\n"
)


def letter_form_data(letter: Letter, **changes) -> dict:
    data = {
        "title": letter.title,
        "slug": letter.slug,
        "status": letter.status,
        "subject": letter.subject,
        "salutation": letter.salutation,
        "body": letter.body,
        "closing": letter.closing,
        "opens_at": "",
        "closes_at": "",
        "accepts_individuals": "on",
        "accepts_organizations": "on",
        "requires_approval": "on",
        "timezone": letter.timezone,
        "language": letter.language,
        "section_order": letter.section_order,
        # The translations inline, empty.
        "translations-TOTAL_FORMS": "0",
        "translations-INITIAL_FORMS": "0",
    }
    return data | changes


def export(staff_client, file_format: int) -> bytes:
    data = {"format": str(file_format), "resource": "0"}
    for name in SignatureExportResource().get_export_order():
        data[f"signatureexportresource_{name}"] = "on"
    response = staff_client.post("/admin/letters/signature/export/?queue=all", data)
    assert response.status_code == 200
    return response.content


def pending_signups(count: int) -> list[str]:
    """`count` pending signatures, their confirmation e-mails queued; their addresses."""
    from letters.signing import tasks

    letter = make_letter(slug="civic-space")
    addresses = [f"signer{n}@example.org" for n in range(count)]
    for address in addresses:
        signature = signature_row(
            letter,
            make_individual(f"Signer {address}", email=address),
            status="pending",
            contact_email=address,
        )
        tasks.send_signature_email.enqueue(signature_id=signature.pk, kind="confirm")
    return addresses
