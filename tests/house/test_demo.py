import datetime as dt

import pytest
from django.core.management import call_command

from letters import lifecycle
from letters.models import Letter, Signature
from letters.rosters import Roster
from signatories.models import Individual

pytestmark = pytest.mark.django_db


def test_load_demo_makes_a_realistic_letter(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("load_demo")
    letter = Letter.objects.get(slug="veltrana-civic-space")
    signatures = Signature.objects.filter(letter=letter)
    assert signatures.count() >= 55
    assert signatures.filter(status=Signature.Status.PENDING).count() == 1
    assert signatures.filter(status=Signature.Status.REJECTED).count() == 1
    assert signatures.filter(withdrawn_at__isnull=False).count() == 1
    days = {letter.local_date(s.signed_at) for s in signatures.exclude(signed_at=None)}
    assert len(days) >= 10

    roster = Roster(letter)
    names = [entry.name for entry in roster.entries()]
    assert "Søren Kierkegaard Holm" not in names  # withdrew
    assert "Mickey Mouse" not in names and "Pat Pending" not in names
    assert names.index("Samuel Abebe") < names.index("Lee Yanghee") < names.index("Tomás Ojea-Quintana")
    # The seed letter's signers gave their family names: the list sorts as an editor would,
    # "Lee Yanghee" under L, "Nguyễn Thị Lan" under N, "Tomás Ojea-Quintana" under O.
    people = Individual.objects.filter(signatures__letter=letter)
    sort_names = {person.name: person.effective_sort_name for person in people}
    # From the family names they gave, not from a sort name staff had to find on each record.
    gave = {person.name: (person.family_name, person.sort_name) for person in people}
    assert gave["Lee Yanghee"] == ("Lee", "") and gave["Tomás Ojea-Quintana"] == ("Ojea-Quintana", "")
    assert sort_names["Lee Yanghee"].startswith("Lee")
    assert sort_names["Nguyễn Thị Lan"].startswith("Nguyễn")
    assert sort_names["Tomás Ojea-Quintana"].startswith("Ojea-Quintana")
    assert sort_names["Chen Wei-ling"].startswith("Chen") and sort_names["Kim Min-jun"].startswith("Kim")
    assert names.index("Chen Wei-ling") < names.index("Kim Min-jun") < names.index("Lee Yanghee")

    # Before he withdrew, the withdrawn signer was on the list.
    withdrawn = signatures.get(withdrawn_at__isnull=False)
    day_before = letter.local_date(withdrawn.withdrawn_at).toordinal() - 1
    earlier = Roster(letter, dt.date.fromordinal(day_before))
    assert "Søren Kierkegaard Holm" in [entry.name for entry in earlier.entries()]

    # Two who cannot be named, counted in every output and named in none.
    assert (roster.counts["unnamed_individuals"], roster.counts["unnamed_organizations"]) == (1, 1)
    assert "Nadia Haddad" not in names and "Veltrana Defenders Collective" not in names
    # Organizations vouched for: by their website's domain, and by staff.
    verified = signatures.exclude(verification="").values_list("organization__acronym", "verification")
    assert sorted(verified) == [("APDH", "domain"), ("FLS", "staff")]

    output = capsys.readouterr().out
    assert "user admin, password " in output


def test_load_demo_if_empty_does_not_load_twice(tmp_path, settings, capsys):
    settings.VAR_DIR = tmp_path
    call_command("load_demo", "--if-empty")
    call_command("load_demo", "--if-empty")
    assert Letter.objects.filter(slug="veltrana-civic-space").count() == 1
    output = capsys.readouterr().out
    passwords = [line for line in output.splitlines() if "password" in line]
    assert len(passwords) == 2 and passwords[0] == passwords[1]


def test_the_demo_closed_letter_has_a_realistic_list(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("load_demo")
    closed = Letter.objects.get(slug="open-data-courts-2025")

    roster = Roster(closed)

    assert roster.counts["individuals"] >= 8 and roster.counts["organizations"] >= 5
    names = [entry.name for entry in roster.entries()]
    assert "Marta Kowalczyk" not in names  # withdrew while it was open
    signed = {closed.local_date(s.signed_at) for s in closed.signatures.all()}
    assert all(
        closed.local_date(closed.opens_at) <= day < closed.local_date(closed.closes_at) for day in signed
    )
    # An organization that signed both letters is one organization.
    assert closed.signatures.filter(organization__name="Front Line Solidarity").exists()


def test_load_demo_prints_addresses_to_open_not_paths(tmp_path, settings):
    import io

    settings.VAR_DIR = tmp_path
    settings.SITE_URL = "http://127.0.0.1:8123"
    out = io.StringIO()

    call_command("load_demo", stdout=out)

    text = out.getvalue()
    assert "http://127.0.0.1:8123/letters/veltrana-civic-space/" in text
    assert "Staff login at http://127.0.0.1:8123/admin/" in text


def test_the_demo_letter_has_two_versions_and_one_signer_marked_until_they_agree(tmp_path, settings, client):
    settings.VAR_DIR = tmp_path
    call_command("load_demo")
    letter = Letter.objects.get(slug="veltrana-civic-space")
    versions = list(letter.text_versions.order_by("number"))
    assert [(v.number, v.material) for v in versions] == [(1, True), (2, True)]
    assert "penalised for receiving international funding" not in versions[0].body
    assert "penalised for receiving international funding" in versions[1].body == letter.body
    marked = {entry.name: entry.earlier_version for entry in Roster(letter).entries() if entry.marked}
    assert marked == {"Lee Yanghee": 1}
    # The days between the change and the others' answers showed them marked too.
    changed = letter.local_date(versions[1].created_at)
    assert len([e for e in Roster(letter, changed).entries() if e.marked]) > 1
    assert "signed an earlier version" in client.get("/letters/veltrana-civic-space/").content.decode()
    assert client.get("/letters/veltrana-civic-space/versions/").status_code == 200
    lee = Signature.objects.get(letter=letter, individual__name="Lee Yanghee")
    lifecycle.signature_reconsent(signature=lee)
    assert not [entry for entry in Roster(Letter.objects.get(pk=letter.pk)).entries() if entry.marked]
