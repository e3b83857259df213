"""Small factories: each makes one valid object, with keyword overrides."""

import datetime as dt
import itertools

from letters.models import Letter, Signature
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


def sign(
    letter: Letter,
    signatory: Individual | Organization,
    signed_at: dt.datetime | None = None,
    status: str = Signature.Status.APPROVED,
    **fields,
) -> Signature:
    if signed_at is None and status == Signature.Status.APPROVED:
        signed_at = dt.datetime(2023, 9, 1, 12, tzinfo=dt.UTC)
    kind = "organization" if isinstance(signatory, Organization) else "individual"
    return Signature.objects.create(
        letter=letter, status=status, signed_at=signed_at, public_consent=True, **{kind: signatory}, **fields
    )


def sign_in_several_scripts(letter: Letter) -> Letter:
    """Signers whose names are in Latin, Hangul and Arabic (right to left) script, and an organization."""
    sign(
        letter,
        make_individual("Lee Yanghee", sort_name="Lee Yanghee", title="Professor, Sungkyunkwan University"),
    )
    sign(letter, make_individual("이양희", sort_name="이양희", title="성균관대학교 교수"))
    sign(letter, make_individual("فاطمة الزهراء العلوي", sort_name="العلوي", title="باحثة"))
    sign(letter, make_individual("Tomás Ojea-Quintana", title="Former UN Special Rapporteur"))
    sign(letter, make_organization("Asociación Pro Derechos Humanos", acronym="APDH"))
    return letter
