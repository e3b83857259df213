"""Who is the same signatory (signatories.identity): the rules, their reasons, and their SQL twins."""

import pytest
from django.db.models import Exists

from letters import lifecycle
from letters.models import Signature
from signatories import identity
from signatories.models import Individual, Organization
from signatories.normalize import name_skeleton
from tests.factories import make_individual, make_letter, make_organization, signature_row

pytestmark = pytest.mark.django_db


def org(name: str, acronym: str = "", country: str = "") -> Organization:
    record = Organization(name=name, acronym=acronym, country=country)
    record.refresh_derived_fields()
    return record


def person(name: str, email: str = "") -> Individual:
    record = Individual(name=name, email=email)
    record.refresh_derived_fields()
    return record


@pytest.mark.parametrize(
    ("a", "b", "same", "reason"),
    [
        (
            org("Médecins Sans Frontières"),
            org("MEDECINS SANS FRONTIERES"),
            True,
            identity.SAME_ORGANIZATION_NAME,
        ),
        (org("Lawyers & Doctors"), org("Lawyers and Doctors"), True, identity.SAME_ORGANIZATION_NAME),
        (
            org("Amnesty Argentina", "AIAR", "AR"),
            org("Amnistía", "aiar", "AR"),
            True,
            identity.SAME_ACRONYM_AND_COUNTRY,
        ),
        (org("The Elders Foundation"), org("Elders Foundation"), False, identity.NEAR_THE),
        (
            org("Human Rights Watch", "HRW", "US"),
            org("Human Rights Observers", "HRW", "GB"),
            False,
            identity.NEAR_ACRONYM,
        ),
        (org("Human Rights Watch", "HRW"), org("HRW"), False, identity.NEAR_NAME_IS_ACRONYM),
        (org("Amnesty International"), org("Amnesty Internacional"), False, "names 1 letter apart"),
    ],
)
def test_organizations_are_the_same_or_near_for_a_reason(a, b, same, reason):
    is_same, reasons = identity.organization_relation(a, b)
    assert is_same == same
    assert reason in reasons
    # The rule is symmetric.
    assert identity.organization_relation(b, a)[0] == same


def test_different_organizations_have_no_relation():
    assert identity.organization_relation(org("ACAT UK"), org("ACAT US")) == (False, [])
    assert identity.organization_relation(
        org("Women for Justice", country="KE"), org("Women for Justica", country="UG")
    ) == (
        False,
        [],
    )


def test_people_are_the_same_by_mailbox_and_near_by_name():
    assert identity.individual_relation(
        person("J. Doe", "J.Doe+x@gmail.com"), person("Jane", "jdoe@gmail.com")
    ) == (
        True,
        [identity.SAME_EMAIL],
    )
    # Equal names with two addresses are two people (near: staff see it).
    assert identity.individual_relation(person("Ana Pérez", "a@x.org"), person("Ana Perez", "b@y.org")) == (
        False,
        [identity.NEAR_NAME],
    )


def test_a_name_without_email_is_the_person_of_that_name_on_the_same_letter_only():
    row, signer = person("SAMUEL  ABEBE"), person("Samuel Abebe", "samuel@example.org")
    assert identity.individual_relation(row, signer, on_same_letter=True) == (
        True,
        [identity.SAME_NAME_ON_LETTER],
    )
    assert identity.individual_relation(row, signer, on_same_letter=False) == (False, [identity.NEAR_NAME])


def test_the_letter_decides_which_namesake_is_the_same_person():
    letter = make_letter()
    elsewhere = make_individual("Samuel Abebe")
    on_letter = make_individual("Samuel Abebe", email="samuel@example.org")
    signature_row(letter, on_letter)
    for _ in range(25):  # however many namesakes the table holds
        make_individual("Samuel Abebe")

    match = identity.individual_same(
        person("samuel abebe"), on_letter=Individual.objects.filter(signatures__letter=letter)
    )

    assert match.record == on_letter
    assert elsewhere != match.record


@pytest.mark.parametrize(
    ("email", "website", "verdict"),
    [
        ("director@clu-veltrana.org", "https://www.clu-veltrana.org/about", identity.AT_WEBSITE),
        ("office@geneva.clu-veltrana.org", "clu-veltrana.org", identity.AT_WEBSITE),
        ("clu.veltrana@gmail.com", "https://clu-veltrana.org", identity.FREE_MAIL),
        ("someone@other.org", "https://clu-veltrana.org", identity.OTHER_DOMAIN),
        ("someone@other.org", "", identity.NO_WEBSITE),
    ],
)
def test_a_claim_says_whether_the_address_is_at_the_organizations_domain(email, website, verdict):
    assert identity.claim_address(email, website) == verdict


def test_the_queues_sql_agrees_with_the_rule():
    records = [
        make_organization("Human Rights Watch", acronym="HRW", country="US"),
        make_organization("Human Rights Observers", acronym="HRW", country="GB"),
        make_organization("HRW"),
        make_organization("The Elders"),
        make_organization("Elders"),
        make_organization("Oxfam"),
        make_organization("Front Line Defenders"),
    ]
    letter = make_letter()
    for record in records:
        signature_row(letter, record)
    from letters.lifecycle.moderation import with_warnings

    flagged = dict(
        with_warnings(Signature.objects.filter(letter=letter)).values_list(
            "organization", "warn_organization"
        )
    )
    for record in records:
        others = [other for other in records if other.pk != record.pk]
        by_rule = any(
            reason
            for other in others
            for reason in identity.organization_relation(record, other)[1]
            if "apart" not in reason
        )
        assert flagged[record.pk] == by_rule, record.name


def test_someone_who_may_be_a_listed_person_without_email_waits_for_staff(letter):
    letter.requires_approval = False
    letter.save()
    signature_row(letter, make_individual("Samuel Abebe"))  # an imported row
    twin = signature_row(letter, make_individual("Samuel Abebe", email="s@example.org"), status="pending")
    namesake = signature_row(letter, make_individual("Ana Pérez", email="ana@one.org"), status="approved")
    other_ana = signature_row(letter, make_individual("Ana Perez", email="ana@two.org"), status="pending")

    assert lifecycle.signature_confirm(signature=twin).status == Signature.Status.CONFIRMED
    # Two signers with their own addresses are two people: no wait.
    assert lifecycle.signature_confirm(signature=other_ana).status == Signature.Status.APPROVED
    assert namesake.status == Signature.Status.APPROVED


def test_no_rule_is_restated_outside_identity():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in [*root.glob("letters/**/*.py"), *root.glob("signatories/**/*.py")]:
        if "migrations" in path.parts or path.name == "identity.py":
            continue
        text = path.read_text()
        assert "Levenshtein" not in text, path
        assert 'removeprefix("the ")' not in text, path
        assert "name_key=" not in text.replace("name_key=OuterRef", ""), path


def test_namesakes_on_a_letter_are_found_in_one_query():
    letter = make_letter()
    signature_row(letter, make_individual("Lee Yanghee"))
    signature_row(letter, make_individual("LEE YANGHEE", email="lee@example.org"))
    warned = Signature.objects.annotate(n=Exists(identity.namesakes())).filter(n=True).count()
    assert warned == 2


@pytest.mark.parametrize(
    "look_alike",
    [
        "Grace Imp\u200borted",  # a zero-width space (stripped on save)
        "Grace Imp\u200dorted",  # a zero-width joiner inside a word, which the forms let through
        "Grace Impоrted",  # a Cyrillic "о"
        "Grасе Imported",  # Cyrillic "а", "с", "е"
        "Grace lmported",  # a small L for the capital I
    ],
)
def test_a_look_alike_of_a_listed_person_without_email_waits_for_staff(letter, look_alike):
    letter.requires_approval = False
    letter.save()
    signature_row(letter, make_individual("Grace Imported"))  # an imported row
    web = signature_row(letter, make_individual(look_alike, email="grace@example.org"), status="pending")

    assert lifecycle.signature_confirm(signature=web).status == Signature.Status.CONFIRMED


def test_names_that_only_look_alike_share_a_skeleton_and_different_names_do_not():
    alike = ("Grace Imported", "Grace Impоrted", "GRACE IMP\u200bORTED")
    assert len({name_skeleton(name) for name in alike}) == 1
    assert name_skeleton("Grace Imported") != name_skeleton("Grace Importer")
    assert name_skeleton("Ana Pérez") == name_skeleton("ana perez")


def test_the_queues_namesake_warning_flags_a_look_alike_name():
    # "Grace Impоrted" (a Cyrillic "о") was held by the namesake rule, yet the queue showed no warning.
    from letters.lifecycle.moderation import with_warnings

    letter = make_letter()
    signature_row(letter, make_individual("Grace Imported", email="grace@example.org"))
    look_alike = signature_row(
        letter, make_individual("Grace Impоrted", email="other@example.net"), status="confirmed"
    )
    stranger = signature_row(
        letter, make_individual("Ada Lovelace", email="ada@example.net"), status="confirmed"
    )

    warned = dict(with_warnings(Signature.objects.filter(letter=letter)).values_list("pk", "warn_namesake"))
    assert warned[look_alike.pk] is True
    assert warned[stranger.pk] is False
    assert list(identity.namesakes_of(look_alike.individual).values_list("name", flat=True)) == [
        "Grace Imported"
    ]


def test_records_without_a_skeleton_are_not_each_others_namesakes():
    a, b = make_individual("Ana A"), make_individual("Bo B")
    Individual.objects.filter(pk__in=[a.pk, b.pk]).update(name_skeleton="")
    letter = make_letter()
    signature_row(letter, a)
    signature_row(letter, b)
    assert not Signature.objects.annotate(n=Exists(identity.namesakes())).filter(n=True).exists()
