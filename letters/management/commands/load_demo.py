import datetime as dt
import secrets
import zoneinfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from letters import lifecycle
from letters.management.commands._demo_translations import TRANSLATIONS
from letters.models import Invitation, Letter, LetterTranslation, LetterVersion, Signature
from signatories.models import Individual, Organization

BODY = """\
We, the undersigned organizations and individuals, write to urge you to withdraw the draft
Law on Foreign-Funded Associations before its second reading in the National Assembly.

The draft would require any association receiving more than 10 per cent of its income from abroad
to register as an "agent of external interest", to submit quarterly reports on every activity, and
to accept unannounced inspections.[^1] Comparable laws elsewhere have been followed, within two
years, by the closure of a third of the registered associations working on health, housing and
legal aid.[^2]

The Republic of Veltrana has ratified the International Covenant on Civil and Political Rights,
whose article 22 protects the right to freedom of association. The UN Special Rapporteur on the
rights to freedom of peaceful assembly and of association has stated that the ability to seek,
secure and use resources is an integral part of that right.[^3]

We therefore call on you to:

1. withdraw the draft law and consult civil society on any future reform of the law on associations;
2. ensure that no association is penalised for receiving international funding for lawful work;
3. invite the Special Rapporteur for an official visit in the coming year.

We stand ready to meet with your office to discuss these concerns.

[^1]: Draft Law No. 114/2026, articles 3, 7 and 12, as published by the National Assembly on 3 October 2026.
[^2]: Veltrana Civic Space Monitor, *Counting the Cost*, annual report, pp. 14–19.
[^3]: Report of the Special Rapporteur on the rights to freedom of peaceful assembly and of association,
    UN Doc. A/HRC/23/39, para. 8.
"""

# (name, sort name if not derived from the last word, title, country, days after opening)
# Version 1 of the demo letter, as the first signers read it: its second demand came on day 6
# (a material change), and the signer left at version 1 is marked until they agree.
SECOND_DEMAND = (
    "2. ensure that no association is penalised for receiving international funding for lawful work;\n"
)
BODY_FIRST = BODY.replace(SECOND_DEMAND, "").replace("3. invite", "2. invite")
CHANGED_ON_DAY = 6
CHANGE_NOTE = (
    "We added a second demand: that no association be penalised for its international funding. "
    "Partners asked for it after the Assembly's committee hearing."
)
STILL_AT_VERSION_1 = "Lee Yanghee"

# The seed letter's signers: (name, family name as they gave it on the form, title, country, days
# after opening). The list sorts by the family name; an editor's sort name where the family name alone
# is not how the list sorts (SORT_NAMES: Dutch particles go after the name, "III" after the given names).
SORT_NAMES = {"Martin Luther King III": "King, Martin Luther, III", "Ilse van der Berg": "Berg, Ilse van der"}
INDIVIDUALS = [
    (
        "Tomás Ojea-Quintana",
        "Ojea-Quintana",
        "Former UN Special Rapporteur on the situation of human rights",
        "AR",
        0,
    ),
    ("Lee Yanghee", "Lee", "Professor of Child Psychology, Sungkyunkwan University", "KR", 0),
    ("Åsa Lindqvist", "", "Member of the European Parliament", "SE", 1),
    (
        "Zoë Ferreira-Mbeki",
        "",
        "Director, Centre for Constitutional Rights, University of Cape Town",
        "ZA",
        1,
    ),
    ("Nguyễn Thị Lan", "Nguyễn", "Independent journalist", "VN", 1),
    ("Jean-Baptiste Élie", "", "Avocat au barreau de Paris", "FR", 2),
    (
        "María José Núñez",
        "Núñez",
        "Coordinadora, Red de Defensoras de Derechos Humanos de Centroamérica",
        "GT",
        2,
    ),
    (
        "Dr. Amara Okonkwo",
        "",
        "Senior Lecturer in International Law, School of Oriental and African Studies "
        "(SOAS), University of London; Fellow, Centre for Human Rights Law",
        "GB",
        2,
    ),
    ("Søren Kierkegaard Holm", "", "Former Ambassador of Denmark to the United Nations in Geneva", "DK", 3),
    ("Martin Luther King III", "King", "Human rights advocate", "US", 3),
    (
        "Ilse van der Berg",
        "van der Berg",
        "Emeritus Professor of Public Law, Leiden University",
        "NL",
        3,
    ),
    ("Kateryna Shevchenko", "", "Chair, Board of Trustees, Kyiv Civic Initiatives Foundation", "UA", 4),
    ("Rafael Ángel Muñoz", "", "Senador de la República", "CO", 4),
    ("Chen Wei-ling", "Chen", "Research Fellow, Institute of Sociology, Academia Sinica", "TW", 5),
    (
        "Fatima Zahra El Idrissi",
        "El Idrissi",
        "Présidente, Association marocaine pour l'égalité",
        "MA",
        5,
    ),
    ("Priya Raghunathan", "", "Senior Advocate, Supreme Court of India", "IN", 5),
    ("Olúfẹ́mi Adébáyọ̀", "", "Executive Director, Lagos Legal Aid Network", "NG", 6),
    ("Henrik Østergaard", "", "Journalist and author", "NO", 6),
    ("Ayşe Yıldırım", "", "Lawyer, Istanbul Bar Association", "TR", 7),
    ("Władysław Nowak", "", "Former Judge of the Constitutional Tribunal", "PL", 7),
    ("Renée O'Sullivan", "", "Director of Programmes, Front Line Solidarity", "IE", 8),
    ("Kim Min-jun", "Kim", "Human rights lawyer", "KR", 8),
    ("Gabriel García", "", "Profesor de Derecho Internacional, Universidad de Chile", "CL", 9),
    ("Anna-Lena Müller", "", "Member of the Bundestag", "DE", 9),
    ("Siosaia Tupou", "", "Pacific Islands Civic Forum", "TO", 10),
    ("Dagny Þórsdóttir", "", "Member of the Althing", "IS", 10),
    (
        "Mariam Al-Hassan",
        "",
        "Researcher on freedom of association in the Middle East and North Africa",
        "JO",
        11,
    ),
    ("Yuki Tanaka", "Tanaka Yuki", "Associate Professor, Faculty of Law, Kyoto University", "JP", 11),
    ("Luís Carlos d'Almeida", "Almeida, Luís Carlos d'", "Defensor Público, Estado de São Paulo", "BR", 12),
    ("Ngozi Eze", "", "", "NG", 12),
    ("Éloïse Dubois-Lefèvre", "", "Maîtresse de conférences en droit public, Université de Lyon", "FR", 13),
    ("Aleksander Łukasiewicz", "", "Helsinki Foundation volunteer", "PL", 13),
    ("Samuel Abebe", "", "Former Commissioner, Ethiopian Human Rights Commission", "ET", 14),
]

ORGANIZATION_SORT_NAMES = {"The Elders": "Elders, The"}

# (name, acronym, country, website, days after opening)
ORGANIZATIONS = [
    ("Action by Christians for the Abolition of Torture - France", "ACAT - France", "FR", "", 0),
    ("ACAT - Belgique", "", "BE", "", 0),
    ("ACAT Germany", "", "DE", "", 1),
    ("ACAT UK", "", "GB", "", 1),
    ("Amnistía Ciudadana", "", "ES", "", 1),
    ("Asociación Pro Derechos Humanos", "APDH", "ES", "https://apdh.example.org", 2),
    ("Association for Civic Freedoms", "ACF", "GB", "", 2),
    ("Centre for Law & Democracy", "CLD", "CA", "", 2),
    ("Civic Space Watch", "", "BE", "", 3),
    ("The Elders", "", "", "", 3),
    ("Équipe de Solidarité Juridique", "ESJ", "FR", "", 4),
    ("Front Line Solidarity", "FLS", "IE", "", 4),
    ("Global Network for Freedom of Association", "GNFA", "CH", "", 5),
    ("Human Rights House Veltrana", "HRHV", "", "", 5),
    ("International Service for Civic Rights", "ISCR", "CH", "", 6),
    ("Korea Citizens' Solidarity for Participatory Democracy", "KCSPD", "KR", "", 6),
    ("Lawyers for Lawyers", "", "NL", "", 7),
    ("Østlandet Menneskerettighetsforum", "", "NO", "", 7),
    ("Pacific Islands Civic Forum", "PICF", "FJ", "", 8),
    ("Red Latinoamericana de Sociedad Civil", "RedLAC", "CO", "", 9),
    ("Taiwan Association for Human Rights", "TAHR", "TW", "", 10),
    ("THINK Centre", "", "SG", "", 10),
    ("Women's Legal Aid Collective", "WLAC", "KE", "", 11),
    ("Zivilgesellschaftliches Netzwerk Berlin", "ZNB", "DE", "", 12),
]


# The closed letter's list: (name, family name as given, title, country, days after opening).
COURTS_INDIVIDUALS = [
    ("Helena Brandt", "", "Judge (retired), Federal Administrative Court", "DE", 0),
    ("Kwame Mensah", "", "Director, Open Courts Initiative Ghana", "GH", 0),
    (
        "Lucía Fernández Ortega",
        "Fernández Ortega",
        "Profesora de Derecho Procesal, Universidad de Salamanca",
        "ES",
        1,
    ),
    ("Park Ji-woo", "Park", "Legal technologist, Seoul", "KR", 2),
    ("Aoife Gallagher", "", "Court reporter, The Irish Times", "IE", 3),
    ("Rahul Menon", "", "Advocate, High Court of Kerala", "IN", 5),
    ("Marta Kowalczyk", "", "Data journalist", "PL", 8),
    ("Jonas Vermeulen", "", "Researcher in legal informatics, KU Leuven", "BE", 12),
    ("Sofía Ramírez", "", "", "MX", 15),
    ("Émile Fortin", "", "Avocat, Barreau du Québec", "CA", 21),
]
# (name, acronym, country, days after opening)
CIRCULATING_BODY = """\
We, the undersigned organizations, ask the National Assembly to hold public hearings on the draft
Basic Act on Civic Participation before any vote, and to invite the associations it would regulate.

The draft was published on a Friday evening with a consultation period of seven days.[^1] Laws that
shape how people may associate deserve the time to be read, discussed and improved.

[^1]: Notice of the National Assembly, 2 October 2026.
"""
# Partners of the sign-on period: (organization of the open letter, what they did with the invitation).
INVITED = [
    ("Korea Citizens' Solidarity for Participatory Democracy", "signed"),
    ("Front Line Solidarity", "signed"),
    ("Lawyers for Lawyers", "signed"),
    ("Civic Space Watch", "declined"),
    ("Global Network for Freedom of Association", ""),
    ("International Service for Civic Rights", ""),
]
COURTS_ORGANIZATIONS = [
    ("Open Knowledge Foundation", "OKF", "GB", 0),
    ("Transparency Network for Justice", "TNJ", "NL", 1),
    ("Asociación Civil por la Igualdad y la Justicia", "ACIJ", "AR", 2),
    ("Legal Information Institute Network", "", "", 4),
    ("Centre for Law & Democracy", "CLD", "CA", 6),
    ("Front Line Solidarity", "FLS", "IE", 9),
]


class Command(BaseCommand):
    help = "Load a fictional open letter with about 60 signatures, and a staff login to moderate it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing if a letter already exists (used by make run).",
        )

    def handle(self, *args, if_empty: bool = False, **options):
        if if_empty and Letter.objects.exists():
            self.stdout.write("The database already has letters; the demo was not loaded again.")
        else:
            with transaction.atomic():
                letter = self.load()
            self.stdout.write(
                self.style.SUCCESS(f"Loaded the demo letter: {settings.SITE_URL}/letters/{letter.slug}/")
            )
            circulating = Letter.objects.get(slug="civic-participation-hearings")
            self.stdout.write(
                "A letter circulating among partners (public at 09:00 Seoul time): "
                f"{settings.SITE_URL}{circulating.private_url()}"
            )
        self.stdout.write(f"The site: {settings.SITE_URL}/")
        self.print_login()

    def load(self) -> Letter:
        now = timezone.now()
        opened = (now - dt.timedelta(days=16)).replace(hour=9, minute=0, second=0, microsecond=0)
        letter = Letter.objects.create(
            slug="veltrana-civic-space",
            title="Protect civic space in Veltrana: withdraw the draft law on foreign-funded associations",
            subject="Re: Draft Law No. 114/2026 on Foreign-Funded Associations",
            salutation="Dear President Morel,",
            body=BODY_FIRST,
            closing="Sincerely,",
            status=Letter.Status.OPEN,
            opens_at=opened,
            closes_at=opened + dt.timedelta(days=45),
            timezone="Europe/Zurich",
            language=Letter.Language.EN_GB,
        )
        LetterTranslation.objects.bulk_create(
            LetterTranslation(letter=letter, status=LetterTranslation.Status.READY, **text)
            for text in TRANSLATIONS
        )
        closed = Letter.objects.create(
            slug="open-data-courts-2025",
            title="Publish the courts' judgments as open data",
            subject="Re: Public access to judgments",
            salutation="Dear Minister,",
            body="We ask that every judgment of the higher courts be published within 30 days.[^1]\n\n"
            "[^1]: As recommended by the national open data strategy.",
            status=Letter.Status.CLOSED,
            opens_at=opened - dt.timedelta(days=300),
            closes_at=opened - dt.timedelta(days=250),
            timezone="Europe/London",
            language=Letter.Language.EN_GB,
        )

        def moment(days: int, minute: int) -> dt.datetime:
            return opened + dt.timedelta(days=days, hours=minute % 9, minutes=minute * 7 % 60)

        signatures = []
        for i, (name, family_name, title, country, days) in enumerate(INDIVIDUALS):
            email = f"signer{i}@example.org"
            person = Individual.objects.create(
                name=name,
                family_name=family_name,
                sort_name=SORT_NAMES.get(name, ""),
                title=title,
                country=country,
                email=email,
            )
            signatures.append(
                Signature(
                    letter=letter,
                    individual=person,
                    status=Signature.Status.APPROVED,
                    source=Signature.Source.FORM,
                    submitted_at=moment(days, i) - dt.timedelta(minutes=5),
                    confirmed_at=moment(days, i),
                    signed_at=moment(days, i),
                    approved_at=moment(days, i) + dt.timedelta(hours=2),
                    public_consent=True,
                    contact_email=email,
                )
            )
        for i, (name, acronym, country, website, days) in enumerate(ORGANIZATIONS):
            org = Organization.objects.create(
                name=name,
                acronym=acronym,
                country=country,
                website=website,
                sort_name=ORGANIZATION_SORT_NAMES.get(name, ""),
                contact_name="Demo contact",
                contact_email=f"org{i}@example.org",
            )
            signatures.append(
                Signature(
                    letter=letter,
                    organization=org,
                    status=Signature.Status.APPROVED,
                    source=Signature.Source.IMPORT if i % 3 == 0 else Signature.Source.FORM,
                    submitted_at=moment(days, i + 40),
                    confirmed_at=moment(days, i + 40),
                    signed_at=moment(days, i + 40),
                    approved_at=moment(days, i + 40) + dt.timedelta(hours=3),
                    public_consent=True,
                    signer_name="Demo signer",
                    contact_email=f"org{i}@example.org",
                )
            )
        Signature.objects.bulk_create(signatures)

        # One who withdrew on day 9, one never confirmed, one rejected as a fake.
        withdrawn = Signature.objects.get(letter=letter, individual__name="Søren Kierkegaard Holm")
        withdrawn.withdrawn_at = opened + dt.timedelta(days=9, hours=4)
        withdrawn.withdrawal_reason = "Asked to be removed after taking up a government post."
        withdrawn.save()
        pending = Individual.objects.create(
            name="Pat Pending", title="Unconfirmed signer", email="pending@example.org"
        )
        Signature.objects.create(
            letter=letter,
            individual=pending,
            status=Signature.Status.PENDING,
            public_consent=True,
            submitted_at=now - dt.timedelta(hours=3),
            contact_email="pending@example.org",
        )
        fake = Individual.objects.create(
            name="Mickey Mouse", title="President of the World", email="mm@example.com"
        )
        Signature.objects.create(
            letter=letter,
            individual=fake,
            status=Signature.Status.REJECTED,
            public_consent=True,
            submitted_at=opened + dt.timedelta(days=4),
            rejected_at=opened + dt.timedelta(days=4, hours=1),
            rejection_reason="Not a real person.",
            contact_email="mm@example.com",
        )
        self.load_unnamed_and_verified(letter, moment)
        self.load_versions(letter, changed=opened + dt.timedelta(days=CHANGED_ON_DAY))
        self.load_closed(closed)
        self.load_circulating(now)
        return letter

    def load_circulating(self, now: dt.datetime) -> Letter:
        """
        The sign-on period (docs/organizers.md): a letter circulating among partners by
        invitation, signed until 18:00 Seoul time in two days, public by itself at 09:00
        Seoul time the morning after, with its list as it stood.
        """
        seoul = zoneinfo.ZoneInfo("Asia/Seoul")
        today = now.astimezone(seoul).date()
        sign_by = dt.datetime.combine(today + dt.timedelta(days=2), dt.time(18), tzinfo=seoul)
        letter = Letter.objects.create(
            slug="civic-participation-hearings",
            title="Hold public hearings on the Basic Act on Civic Participation",
            subject="Re: Draft Basic Act on Civic Participation",
            salutation="Dear Speaker,",
            body=CIRCULATING_BODY,
            status=Letter.Status.CIRCULATING,
            timezone="Asia/Seoul",
            language=Letter.Language.EN_GB,
            accepts_individuals=False,
            sign_by=sign_by,
            publish_at=dt.datetime.combine(sign_by.date() + dt.timedelta(days=1), dt.time(9), tzinfo=seoul),
        )
        sent = now - dt.timedelta(days=4)
        for name, answer in INVITED:
            org = Organization.objects.filter(name=name).first()
            if org is None or not org.contact_email:
                continue
            invitation = Invitation.objects.create(letter=letter, organization=org, email=org.contact_email)
            invitation.sent_at = sent
            if answer == "signed":
                signed = sent + dt.timedelta(days=1, hours=len(name) % 7)
                invitation.signature = Signature.objects.create(
                    letter=letter,
                    organization=org,
                    status=Signature.Status.APPROVED,
                    source=Signature.Source.FORM,
                    submitted_at=signed,
                    confirmed_at=signed,
                    signed_at=signed,
                    approved_at=signed + dt.timedelta(hours=2),
                    public_consent=True,
                    signer_name="Demo signer",
                    contact_email=org.contact_email,
                )
            elif answer == "declined":
                invitation.declined_at = sent + dt.timedelta(days=2)
            invitation.save(update_fields=["sent_at", "signature", "declined_at"])
        return letter

    @staticmethod
    def load_versions(letter: Letter, changed: dt.datetime) -> None:
        """
        The second demand added on day 6 (version 2, material): later signers signed it,
        the earlier ones agreed to it within two days, but for one who is still marked.
        """
        lifecycle.letter_text_change(letter=letter, user=None, material=True, note=CHANGE_NOTE, body=BODY)
        LetterVersion.objects.filter(letter=letter, number=2).update(created_at=changed)
        Letter.objects.filter(pk=letter.pk).update(text_version_at=changed)
        LetterTranslation.objects.filter(letter=letter).update(version=2)  # translated from version 2
        signatures = Signature.objects.filter(letter=letter)
        signatures.filter(submitted_at__gte=changed).update(text_version=2)
        agreed = signatures.filter(submitted_at__lt=changed).exclude(individual__name=STILL_AT_VERSION_1)
        for signature in agreed.order_by("pk"):
            on = changed + dt.timedelta(hours=6 + signature.pk % 40)
            signature.earlier_text_versions = [[1, on.isoformat()]]
            signature.text_version = 2
            signature.save(update_fields=["earlier_text_versions", "text_version", "updated_at"])

    def load_unnamed_and_verified(self, letter: Letter, moment) -> None:
        """
        Two signers who cannot be named (counted, never listed), and who vouches
        for two organizations: one confirmed from an address at its website's
        domain, one whose director staff telephoned.
        """
        person = Individual.objects.create(
            name="Nadia Haddad", title="Human rights defender", email="nh@example.org"
        )
        group = Organization.objects.create(
            name="Veltrana Defenders Collective", contact_name="Demo contact", contact_email="vdc@example.org"
        )
        for i, signatory in enumerate([{"individual": person}, {"organization": group}]):
            self._approved(
                letter, moment(7 + i, 50 + i), unnamed=True, contact_email="u@example.org", **signatory
            ).save()
        Signature.objects.filter(letter=letter, organization__acronym="APDH").update(
            verification=Signature.Verification.DOMAIN, contact_email="secretaria@apdh.example.org"
        )
        Signature.objects.filter(letter=letter, organization__acronym="FLS").update(
            verification=Signature.Verification.STAFF,
            authorized_by_name="Renée O'Sullivan",
            authorized_by_role="Director of Programmes",
            authorized_how="Telephone call to the office number on the website",
        )

    def load_closed(self, letter: Letter) -> None:
        """The closed letter's signatories: approved while it was open, one withdrawn before it closed."""
        signatures = []
        for i, (name, family_name, title, country, days) in enumerate(COURTS_INDIVIDUALS):
            signed = letter.opens_at + dt.timedelta(days=days, hours=2 + i % 7, minutes=i * 11 % 60)
            person = Individual.objects.create(
                name=name,
                family_name=family_name,
                title=title,
                country=country,
                email=f"courts{i}@example.org",
            )
            signatures.append(self._approved(letter, signed, individual=person))
        for i, (name, acronym, country, days) in enumerate(COURTS_ORGANIZATIONS):
            signed = letter.opens_at + dt.timedelta(days=days, hours=3 + i % 5)
            org = Organization.objects.filter(name=name).first() or Organization.objects.create(
                name=name, acronym=acronym, country=country, contact_email=f"courts-org{i}@example.org"
            )
            signatures.append(self._approved(letter, signed, organization=org, signer_name="Demo signer"))
        Signature.objects.bulk_create(signatures)
        withdrawn = Signature.objects.get(letter=letter, individual__name="Marta Kowalczyk")
        withdrawn.withdrawn_at = letter.opens_at + dt.timedelta(days=30)
        withdrawn.withdrawal_reason = "Took up a post at the ministry."
        withdrawn.save()

    @staticmethod
    def _approved(letter: Letter, signed: dt.datetime, **fields) -> Signature:
        return Signature(
            letter=letter,
            status=Signature.Status.APPROVED,
            source=Signature.Source.FORM,
            submitted_at=signed - dt.timedelta(minutes=4),
            confirmed_at=signed,
            signed_at=signed,
            approved_at=signed + dt.timedelta(hours=5),
            public_consent=True,
            **fields,
        )

    def print_login(self) -> None:
        User = get_user_model()
        password_file = settings.VAR_DIR / "demo-admin-password"
        user = User.objects.filter(username="admin").first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            if user is None:
                user = User.objects.create_superuser("admin", "admin@example.org", password)
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        self.stdout.write(f"Staff login at {settings.SITE_URL}/admin/: user admin, password {password}")
