"""Benchmark letters: `populate(n)` makes a letter with n approved signatures."""

import datetime as dt
import random

from django.utils import timezone

from letters.models import Letter, Signature
from signatories.models import Individual, Organization

FIRST = [
    "Ana",
    "Tomás",
    "Åsa",
    "Zoë",
    "Jean-Baptiste",
    "María José",
    "Olúfẹ́mi",
    "Kim",
    "Chen",
    "Ngozi",
    "Søren",
]
LAST = [
    "Ojea-Quintana",
    "Núñez",
    "Lindqvist",
    "Okonkwo",
    "Ferreira",
    "Élie",
    "Adébáyọ̀",
    "Yıldırım",
    "Nowak",
    "Müller",
]


SYLLABLES = ["ka", "ro", "mi", "an", "el", "os", "ta", "ri", "na", "lu", "be", "do", "sa", "ne", "ja", "vi"]
SYLLABLES += ["mar", "ter", "son", "li", "ng", "ez", "ov", "ic"]


def populate_people(n: int, seed: int = 1) -> None:
    """
    n individuals on file with names as a large roll has them: 300 first
    names, 3,000 surnames, a third with a second surname; namesakes, and
    names a letter or two apart, as often as such names make them.
    """
    rng = random.Random(seed)

    def word(shortest: int, longest: int) -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(shortest, longest))).title()

    firsts = [word(2, 3) for _ in range(300)]
    lasts = [word(2, 4) for _ in range(3000)]
    for start in range(0, n, 5000):
        people = []
        for i in range(start, min(n, start + 5000)):
            second = f" {word(2, 4)}" if rng.random() < 0.3 else ""
            person = Individual(
                name=f"{rng.choice(firsts)} {rng.choice(lasts)}{second}",
                country="FR",
                email=f"roll{seed}-{i}@example.org",
            )
            person.refresh_derived_fields()
            people.append(person)
        Individual.objects.bulk_create(people)


def populate(n: int, slug: str = "") -> Letter:
    """A letter with n approved signatures: four individuals to each organization."""
    letter = Letter.objects.create(
        slug=slug or f"bench-{n}",
        title=f"Benchmark letter with {n} signatures",
        body="We write to you.[^1]\n\n[^1]: A footnote.",
        status=Letter.Status.OPEN,
        timezone="Europe/Zurich",
    )
    start = timezone.now() - dt.timedelta(days=30)
    batch = 5000
    made = 0
    while made < n:
        size = min(batch, n - made)
        people, orgs = [], []
        for i in range(made, made + size):
            if i % 5 == 4:
                org = Organization(
                    name=f"{LAST[i % 10]} Civic Association {i}", acronym=f"CA{i}", country="CH"
                )
                org.refresh_derived_fields()
                orgs.append(org)
            else:
                person = Individual(
                    name=f"{FIRST[i % 11]} {LAST[(i // 11) % 10]} {i}",
                    title="Professor of International Law, University of Somewhere",
                    country="FR",
                    email=f"signer{n}-{i}@example.org",
                )
                person.refresh_derived_fields()
                people.append(person)
        Individual.objects.bulk_create(people)
        Organization.objects.bulk_create(orgs)
        signatures = [
            Signature(
                letter=letter,
                **{"individual" if isinstance(who, Individual) else "organization": who},
                status=Signature.Status.APPROVED,
                signed_at=start + dt.timedelta(seconds=(made + k) * 7),
                public_consent=True,
            )
            for k, who in enumerate(people + orgs)
        ]
        Signature.objects.bulk_create(signatures)
        made += size
    return letter
