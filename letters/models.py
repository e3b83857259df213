import datetime as dt
import hashlib
import hmac
import secrets
import zoneinfo
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from letters.markdown import render_markdown, split_footnotes
from signatories.models import Individual, Organization
from signatories.normalize import canonical_email, mailbox_key


def is_timezone(value: str) -> bool:
    """
    Whether `value` names a time zone. zoneinfo reads the name as a path: an
    unknown name, a path (../x, /etc/passwd), a folder (Europe), a file that is
    no zone (zone.tab) or a name too long for a file each fail differently.
    """
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def validate_timezone(value: str) -> None:
    if not is_timezone(value):
        name = Truncator(value).chars(40)
        raise ValidationError(f"“{name}” is not a time zone name such as Europe/London.", code="invalid")


def default_timezone() -> str:
    """A new letter's zone: the site's TIME_ZONE (called, so that a site's own zone is no migration)."""
    return settings.TIME_ZONE


def individual_xor_organization(model: str, message: str) -> models.CheckConstraint:
    """A signature or an invitation is of one individual or one organization: never both, never neither."""
    return models.CheckConstraint(
        condition=(
            Q(individual__isnull=False, organization__isnull=True)
            | Q(individual__isnull=True, organization__isnull=False)
        ),
        name=f"{model}_individual_xor_organization",
        violation_error_message=message,
    )


def new_private_key() -> str:
    """A circulating letter's private key: 192 random bits, in a URL as they are."""
    return secrets.token_urlsafe(24)


class MarkdownBody:
    """A letter's text, or a translation's: the Markdown body as safe HTML, the notes apart."""

    body: str

    @cached_property
    def body_html(self) -> str:
        """The body as safe HTML, footnotes included at its end."""
        return render_markdown(self.body)

    @property
    def body_text_html(self) -> str:
        return split_footnotes(self.body_html)[0]

    @property
    def footnotes_html(self) -> str:
        return split_footnotes(self.body_html)[1]


class LetterQuerySet(models.QuerySet):
    def public(self, now: dt.datetime | None = None) -> "LetterQuerySet":
        """
        The one rule of who sees a letter without being staff: open or closed as
        read (`with_status`): not a draft, and not circulating unless its
        publication moment has passed. Staff see every letter; a private link
        opens a circulating one (letters/views/public.py).
        """
        return self.with_status(Letter.Status.OPEN, Letter.Status.CLOSED, now=now)

    def with_status(self, *statuses: str, now: dt.datetime | None = None) -> "LetterQuerySet":
        """
        Letters whose status as read is one of `statuses`: a circulating letter
        whose `publish_at` has passed is open (`Letter.published_on_read`),
        though its row still says circulating. Every query by status goes
        through here (the index, the digest, retention), never `status=` alone.
        """
        now = now or timezone.now()
        published = Q(status=Letter.Status.CIRCULATING, publish_at__lte=now)
        condition = Q(status__in=[status for status in statuses if status != Letter.Status.CIRCULATING])
        if Letter.Status.OPEN in statuses:
            condition |= published
        if Letter.Status.CIRCULATING in statuses:
            condition |= Q(status=Letter.Status.CIRCULATING) & ~published
        return self.filter(condition)

    def roster_changed(self) -> int:
        """
        The public list of these letters changed: a new `roster_version`, in the
        caller's transaction. Pages and exports are cached under it.
        """
        return self.update(roster_version=F("roster_version") + 1)


class Letter(MarkdownBody, models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        CIRCULATING = "circulating", "Circulating (private link only)"
        OPEN = "open", "Open for signatures"
        CLOSED = "closed", "Closed"

    class Language(models.TextChoices):
        EN_GB = "en-gb", "English (British dates: 21 September 2023)"
        EN_US = "en-us", "English (US dates: September 21, 2023)"
        FR = "fr", "French"
        ES = "es", "Spanish"
        DE = "de", "German"
        PT = "pt", "Portuguese"
        KO = "ko", "Korean"
        ZH_HANS = "zh-hans", "Chinese (Simplified)"
        JA = "ja", "Japanese"
        AR = "ar", "Arabic"

    class SectionOrder(models.TextChoices):
        INDIVIDUALS_FIRST = "individuals", "Individuals, then organizations"
        ORGANIZATIONS_FIRST = "organizations", "Organizations, then individuals"

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=300)
    subject = models.CharField(max_length=500, blank=True, help_text="“Re: …”")
    salutation = models.CharField(max_length=300, blank=True, help_text="“Dear President …,”")
    body = models.TextField(help_text="Markdown. Footnotes are written [^1] and defined as [^1]: text.")
    closing = models.CharField(max_length=300, blank=True, default="Sincerely,")
    status = models.CharField(max_length=12, choices=Status, default=Status.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    accepts_individuals = models.BooleanField(default=True)
    accepts_organizations = models.BooleanField(default=True)
    requires_approval = models.BooleanField(
        default=True,
        help_text="Individual signatures wait for staff approval. Organization signatures always do.",
    )
    timezone = models.CharField(
        max_length=64,
        default=default_timezone,
        validators=[validate_timezone],
        help_text="Whose calendar days “as of a date” means, e.g. Europe/Zurich.",
    )
    language = models.CharField(max_length=10, choices=Language, default=Language.EN_GB)
    section_order = models.CharField(
        max_length=20, choices=SectionOrder, default=SectionOrder.INDIVIDUALS_FIRST
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When staff set the status to "closed" (None while it is not): retention
    # counts from it, whatever is saved on the letter afterwards.
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Goes up whenever anything printed on the letter's list may have changed
    # (see SignatureQuerySet.update and Signature.save): never set by hand.
    roster_version = models.PositiveBigIntegerField(default=0, editable=False)
    # The sign-on period (docs/design.md "The sign-on period"): while circulating,
    # the letter is signed through its private link only, until `sign_by`, and
    # turns open and public by itself at `publish_at`.
    sign_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="While circulating: the private link accepts signatures until this moment.",
    )
    publish_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A circulating letter becomes open and public by itself at this moment.",
    )
    # The private link's key: unguessable, never logged, renewed by staff (old links stop working).
    private_key = models.CharField(max_length=64, default=new_private_key, editable=False)
    # The text's versions (LetterVersion, docs/design.md "What each signer signed"), kept on
    # the row every page reads already: the current number (0 before anyone signed), the
    # latest material one (a signer of an earlier one is marked), and since when.
    text_version = models.PositiveIntegerField(default=0, editable=False)
    material_version = models.PositiveIntegerField(default=0, editable=False)
    text_version_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Who vouches for an organization (docs/design.md, "Who vouches for a name"): with this
    # set, an organization's signature is listed only once it is verified (Signature.verification).
    requires_verified_organizations = models.BooleanField(
        default=False,
        help_text="List an organization only once we know someone with authority signed for it "
        "(confirmed from an address at its website’s domain, through an invitation, or recorded by staff).",
    )

    objects = LetterQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(accepts_individuals=True) | Q(accepts_organizations=True),
                name="letter_accepts_someone",
                violation_error_message="A letter must accept individuals, organizations or both.",
            ),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="letter_closes_after_it_opens",
                violation_error_message="The letter must close after it opens.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    # Written only by LetterVersion.current and letters.lifecycle.letter_text_change, with
    # update(): a letter read before a signature took version 1 must not save it back to 0.
    VERSION_FIELDS = ("text_version", "material_version", "text_version_at")

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and not args and kwargs.get("update_fields") is None and not kwargs:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.VERSION_FIELDS
            ]
        closed = self.status == self.Status.CLOSED
        if closed != (self.closed_at is not None):
            self.closed_at = timezone.now() if closed else None
            if (fields := kwargs.get("update_fields")) is not None:
                kwargs["update_fields"] = {*fields, "closed_at"}
        old_timezone = None
        fields = kwargs.get("update_fields")
        if not self._state.adding and (fields is None or "timezone" in fields):
            old_timezone = Letter.objects.filter(pk=self.pk).values_list("timezone", flat=True).first()
        self.__dict__.pop("tzinfo", None)
        with transaction.atomic():
            super().save(*args, **kwargs)
            if old_timezone and old_timezone != self.timezone:
                signatures_keep_their_days(letter=self, old_timezone=old_timezone)

    def get_absolute_url(self) -> str:
        return reverse("letters:detail", args=[self.slug])

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        letter = super().from_db(db, field_names, values, *args, **kwargs)
        letter.published_on_read()
        return letter

    def published_on_read(self, now: dt.datetime | None = None) -> None:
        """
        A circulating letter whose `publish_at` has passed is open: its status as
        read says so (nothing is written), so every page, export, key and ETag
        that reads the status follows at the moment, with no scheduler.
        """
        status = self.__dict__.get("status")
        publish_at = self.__dict__.get("publish_at")
        if (
            status == self.Status.CIRCULATING
            and publish_at is not None
            and publish_at <= (now or timezone.now())
        ):
            self.status = self.Status.OPEN

    def is_circulating(self) -> bool:
        return self.status == self.Status.CIRCULATING

    def private_key_matches(self, key: str) -> bool:
        """Whether `key` opens this circulating letter (compared in constant time)."""
        if not self.is_circulating() or not self.private_key or not isinstance(key, str):
            return False
        return hmac.compare_digest(key.encode(), self.private_key.encode())

    def private_url(self) -> str:
        """The private link a circulating letter is signed through (relative; prefix SITE_URL)."""
        return f"{reverse('letters:sign', args=[self.slug])}?key={self.private_key}"

    def private_key_renew(self) -> None:
        """A new key: the old private link stops working."""
        self.private_key = new_private_key()
        self.save(update_fields=["private_key", "updated_at"])

    @cached_property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def today(self) -> dt.date:
        """Today in the letter's time zone."""
        return timezone.now().astimezone(self.tzinfo).date()

    def start_of_day(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time.min, tzinfo=self.tzinfo)

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The first instant after `day` in the letter's time zone (rosters use `< end_of_day`)."""
        return self.start_of_day(day + dt.timedelta(days=1))

    def local_date(self, moment: dt.datetime) -> dt.date:
        return moment.astimezone(self.tzinfo).date()

    def is_accepting_signatures(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.status == self.Status.CIRCULATING:
            # Through the private link only (the views see to it), until the sign-on deadline.
            return (self.sign_by is None or now < self.sign_by) and (
                self.closes_at is None or now < self.closes_at
            )
        return (
            self.status == self.Status.OPEN
            and (self.opens_at is None or self.opens_at <= now)
            and (self.closes_at is None or now < self.closes_at)
        )


_UNKNOWN = object()  # a listed field not read from the database (a new row, a deferred field)


class SignatureQuerySet(models.QuerySet):
    def update(self, **kwargs) -> int:
        """
        QuerySet.update() that keeps `updated_at` current and bumps the
        `roster_version` of every letter whose public list it may change (a
        field a list reads, on an approved signature before or after), so no
        caller can leave a cached list stale.
        """
        kwargs.setdefault("updated_at", timezone.now())
        if isinstance(kwargs.get("contact_email"), str):
            kwargs.setdefault("contact_mailbox", canonical_email(kwargs["contact_email"]))
        if not Signature.lists(kwargs):
            # Notes, addresses, consents: no list prints them, no page or ETag changes.
            return super().update(**kwargs)
        with transaction.atomic():
            pks = list(self.values_list("pk", flat=True))
            if not pks:
                return 0
            rows = Signature.objects.filter(pk__in=pks)
            public = Q(status=Signature.Status.APPROVED)
            letters = set(rows.filter(public).values_list("letter_id", flat=True))
            changed = super(SignatureQuerySet, rows).update(**kwargs)
            letters |= set(rows.filter(public).values_list("letter_id", flat=True))
            if letters:
                Letter.objects.filter(pk__in=letters).roster_changed()
        return changed

    def bulk_create(self, objs, *args, **kwargs) -> list:
        """
        QuerySet.bulk_create() that derives each signature's contact_mailbox, as save() does,
        and records the text version each was signed under (an import: the current one).
        """
        objs = list(objs)
        for signature in objs:
            signature.refresh_derived_fields()
        # The letter as the caller holds it (an import's batches: no query each), else as stored.
        unstamped = [signature for signature in objs if signature.text_version is None]
        for signature in unstamped:
            if Signature.letter.is_cached(signature):
                signature.text_version = signature.letter.text_version or None
        unread = {signature.letter_id for signature in unstamped if not Signature.letter.is_cached(signature)}
        if unread:
            versions = dict(
                Letter.objects.filter(pk__in=unread, text_version__gt=0).values_list("pk", "text_version")
            )
            for signature in unstamped:
                if signature.letter_id in unread:
                    signature.text_version = versions.get(signature.letter_id)
        return super().bulk_create(objs, *args, **kwargs)

    def on_roster(self, letter: Letter, *, as_of: dt.date | None = None) -> "SignatureQuerySet":
        """
        The signatures listed on `letter` as of the calendar day `as_of` (today
        when None) in the letter's time zone: approved now, signed by the end of
        that day, and not withdrawn by then. The one definition of the rule in
        docs/design.md; every page and export reads it through `letters.rosters`.
        """
        end = letter.end_of_day(as_of or letter.today())
        return self.filter(
            Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=end),
            letter=letter,
            status=Signature.Status.APPROVED,
            signed_at__lt=end,
            # Erased at the signer's request: off the lists of every day.
            erased_at__isnull=True,
            # Suspended by staff while a dispute is looked into: off the lists of every day too.
            suspended_at__isnull=True,
        ).filter(self.vouched_for(letter))

    @staticmethod
    def vouched_for(letter: Letter) -> Q:
        """
        A letter that requires verified organizations lists an organization's
        signature only once it is verified; individuals are not concerned.
        """
        if not letter.requires_verified_organizations:
            return Q()
        return Q(organization__isnull=True) | ~Q(verification="")

    def individuals(self) -> "SignatureQuerySet":
        return (
            self.filter(individual__isnull=False)
            .select_related("individual")
            .order_by("individual__collation_key", "individual__name", "pk")
        )

    def organizations(self) -> "SignatureQuerySet":
        return (
            self.filter(organization__isnull=False)
            .select_related("organization")
            .order_by("organization__collation_key", "organization__name", "pk")
        )


class Signature(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending e-mail confirmation"
        CONFIRMED = "confirmed", "Confirmed, awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Source(models.TextChoices):
        FORM = "form", "Web form"
        IMPORT = "import", "Import"
        STAFF = "staff", "Entered by staff"

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="signatures")
    individual = models.ForeignKey(
        Individual, on_delete=models.PROTECT, null=True, blank=True, related_name="signatures"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="signatures"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    source = models.CharField(max_length=10, choices=Source, default=Source.FORM)

    submitted_at = models.DateTimeField(default=timezone.now)
    signed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the signature became valid: e-mail confirmation, the date in an "
        "imported file, or the date staff enter.",
    )
    # signed_at is a day, not a moment: the start of that day in the letter's zone, as an
    # import or staff entering a date without a time give it. A change of the letter's zone
    # keeps it on its day (`signatures_keep_their_days`); a moment stays the moment it was.
    dated_by_day = models.BooleanField(default=False, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawal_reason = models.CharField(max_length=500, blank=True)
    # The signer asked for the name to leave every list, earlier days too; the
    # private fields are emptied at the same moment (letters.lifecycle.signature_erase).
    erased_at = models.DateTimeField(null=True, blank=True)
    # A duplicate retired by a merge: the signature that stands for it now.
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged"
    )
    # The language the signer used the form in: every e-mail to them is in it.
    language = models.CharField(max_length=10, blank=True)

    public_consent = models.BooleanField(default=False)
    contact_consent = models.BooleanField(default=False)
    # Private: the person who signed (for an organization, its representative).
    signer_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)
    # contact_email as `signatories.normalize.canonical_email` reads it ("J.Doe+x@Gmail.com"
    # is "jdoe@gmail.com"), derived on save: the queue finds one mailbox's signatures by it.
    # (254 × 3: casefold() may turn one character into three, "ﬃ" into "ffi".)
    contact_mailbox = models.CharField(max_length=762, blank=True, editable=False)
    # A new contact address an Organizer typed, until its owner follows the link sent to it
    # (letters/signing/address_change.py): only then is it contact_email and gets our e-mails.
    pending_contact_email = models.EmailField(max_length=254, blank=True, editable=False)
    ip_hash = models.CharField(max_length=64, blank=True, db_index=True)
    notes = models.TextField(blank=True)
    # Changes whenever the row does: rosters fingerprint themselves with it, so
    # code that moves signatures with QuerySet.update() must set it too.
    updated_at = models.DateTimeField(auto_now=True)
    # Counted, never named: every public list shows it only as a number at the
    # end of its section (docs/design.md, "Signers who cannot be named").
    unnamed = models.BooleanField(
        default=False,
        help_text="Counted on the public list but not named there, for the signer’s safety.",
    )
    # The LetterVersion (its number on the letter) the signer was shown, or last agreed to
    # after a material change; None only for rows from before versions. Until it reaches the
    # letter's `material_version` the name is marked "signed an earlier version".
    text_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # The versions held before each re-consent, oldest first, as [number, "moment it ended"]:
    # a past day's list shows the mark as it stood that day (letters.rosters).
    earlier_text_versions = models.JSONField(default=list, blank=True, editable=False)

    # Suspended by staff while a dispute ("that is my name and I did not sign") is looked
    # into: off every day's list until reinstated (letters.lifecycle.suspension).
    suspended_at = models.DateTimeField(null=True, blank=True, editable=False)
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    suspension_reason = models.CharField(max_length=500, blank=True, editable=False)

    class Verification(models.TextChoices):
        DOMAIN = "domain", "Confirmed from an address at the organization’s website domain"
        INVITATION = "invitation", "Signed through an invitation to the organization’s known contact"
        STAFF = "staff", "Staff recorded who authorized it"

    # Who vouches for an organization's signature (docs/design.md, "Who vouches for a name").
    verification = models.CharField(max_length=12, choices=Verification, blank=True, editable=False)
    # For `staff`: who authorized the signature, their role, how staff know (a call, a letter).
    authorized_by_name = models.CharField(max_length=200, blank=True, editable=False)
    authorized_by_role = models.CharField(max_length=200, blank=True, editable=False)
    authorized_how = models.CharField(max_length=500, blank=True, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = SignatureQuerySet.as_manager()

    # What a list reads of a signature (SignatureQuerySet.on_roster, letters.rosters, the
    # embed's latest names). Any other field (notes, addresses, consents, reasons) is
    # private: writing it changes no public page, file or ETag.
    LISTED_FIELDS = (
        "letter",
        "individual",
        "organization",
        "status",
        "signed_at",
        "withdrawn_at",
        "erased_at",
        "unnamed",
        "text_version",
        "suspended_at",
        "verification",
    )

    class Meta:
        constraints = [
            individual_xor_organization(
                "signature", "A signature is by an individual or by an organization, not both."
            ),
            # A person has one live signature on a letter: signing again is
            # possible once the last one was rejected, withdrawn or erased.
            models.UniqueConstraint(
                fields=["letter", "individual"],
                condition=Q(individual__isnull=False, withdrawn_at__isnull=True, erased_at__isnull=True)
                & ~Q(status="rejected"),
                name="signature_one_live_per_person",
                violation_error_message="This person has already signed this letter.",
            ),
            # Several people may claim to sign for an organization (staff pick
            # the real one); at most one of them is listed.
            models.UniqueConstraint(
                fields=["letter", "organization"],
                condition=Q(
                    organization__isnull=False,
                    status="approved",
                    withdrawn_at__isnull=True,
                    erased_at__isnull=True,
                ),
                name="signature_one_listed_per_organization",
                violation_error_message="This organization is already on the list of this letter.",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(signed_at__isnull=False),
                name="signature_approved_has_signed_at",
                violation_error_message="An approved signature needs the date it was signed.",
            ),
        ]
        # The staff export carries e-mails, IP hashes and notes: its own permission
        # (settings.IMPORT_EXPORT_EXPORT_PERMISSION_CODE), held by Organizers, not Moderators.
        permissions = [("export_signature", "Can export signatures with private data")]
        indexes = [
            # The roster: SignatureQuerySet.on_roster filters on these three.
            models.Index(fields=["letter", "status", "signed_at"], name="signature_roster_idx"),
            # The moderation queue: confirmed signatures of a letter, oldest first.
            models.Index(fields=["letter", "status", "submitted_at"], name="signature_queue_idx"),
            # A signatory's signatures on a letter (signing again, merging). The
            # partial unique constraints above cannot serve these look-ups on
            # SQLite, which only uses a partial index for a literal condition.
            models.Index(fields=["individual", "letter"], name="signature_individual_idx"),
            models.Index(fields=["organization", "letter"], name="signature_organization_idx"),
            # Signatures of a letter from one network within an hour: the
            # queue's warning and bulk invalidation. Without it the database
            # compared the time of every signature from that network.
            models.Index(fields=["letter", "ip_hash", "submitted_at"], name="signature_network_idx"),
            # Signatures of a letter from one mailbox: the queue's warning.
            models.Index(fields=["letter", "contact_mailbox"], name="signature_mailbox_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.signatory} — signature on “{Truncator(self.letter.title).chars(40)}”"

    def save(self, *args, **kwargs) -> None:
        self.refresh_derived_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "contact_email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "contact_mailbox"}
        # A signature that is or was approved, written with a new value of a
        # field a list reads, changes the public list: its letter's
        # roster_version goes up in the same transaction.
        written = None if update_fields is None else {self._meta.get_field(f).name for f in update_fields}
        saved = [name for name in self.LISTED_FIELDS if written is None or name in written]
        before = getattr(self, "_listed", {})
        now = {name: getattr(self, self._meta.get_field(name).attname) for name in saved}
        if self.Status.APPROVED in (self.status, before.get("status")):
            with transaction.atomic():
                changed = self._changes_list(before, now)
                super().save(*args, **kwargs)
                if changed:
                    Letter.objects.filter(pk=self.letter_id).roster_changed()
        else:
            # Nothing public changes (a new pending signature): no savepoint on the signup path.
            super().save(*args, **kwargs)
        self._listed = before | now

    def _changes_list(self, before: dict, now: dict) -> bool:
        """Whether writing the listed values `now` changes what is stored (`before`, as this row was read)."""
        if any(before.get(name, _UNKNOWN) != value for name, value in now.items()):
            return True
        if not now:
            return False  # a note, an address, a consent
        # Unchanged since this row was read; another writer may have changed it since.
        attnames = [self._meta.get_field(name).attname for name in now]
        stored = Signature.objects.filter(pk=self.pk).values_list(*attnames).first()
        return stored != tuple(now.values())

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            if self.Status.APPROVED in (self.status, getattr(self, "_listed", {}).get("status")):
                Letter.objects.filter(pk=self.letter_id).roster_changed()
            return super().delete(*args, **kwargs)

    @classmethod
    def lists(cls, fields) -> bool:
        """Whether writing `fields` (names or attnames) may change what a list prints."""
        return any(cls._meta.get_field(field).name in cls.LISTED_FIELDS for field in fields)

    def refresh_derived_fields(self) -> None:
        """
        contact_mailbox from contact_email: save(), bulk_create() and update() keep it so. An
        import dates by a day, however it writes its rows (`dated_by_day`).
        """
        self.contact_mailbox = canonical_email(self.contact_email) if self.contact_email else ""
        if self.source == self.Source.IMPORT:
            self.dated_by_day = True

    @classmethod
    def from_db(cls, db, field_names, values, **kwargs):
        signature = super().from_db(db, field_names, values, **kwargs)
        # The listed fields as stored: save() bumps the letter's version only when one changes.
        signature._listed = {
            name: signature.__dict__[attname]
            for name in cls.LISTED_FIELDS
            if (attname := cls._meta.get_field(name).attname) in signature.__dict__
        }
        return signature

    @property
    def signatory(self) -> Individual | Organization | None:
        return self.individual or self.organization

    @property
    def is_organization(self) -> bool:
        return self.organization_id is not None


class Correction(models.Model):
    """
    A new printed entry for a signature, proposed by its signer: through the
    form again with the same address (confirmed by its own e-mail link), or on
    the signer's page. It prints once confirmed, and approved by staff where the
    letter requires approval (letters.lifecycle).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending e-mail confirmation"
        CONFIRMED = "confirmed", "Confirmed, awaiting approval"
        APPLIED = "applied", "Applied"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Replaced by a later correction"
        WITHDRAWN = "withdrawn", "Signature withdrawn before it applied"

    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="corrections")
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    # Submitted with the signature itself (to a signatory already on file):
    # the signature's own link confirms it.
    with_signature = models.BooleanField(default=False)
    # The whole entry as proposed; individuals use name, title and country,
    # organizations name, acronym, website and country.
    name = models.CharField(max_length=300)
    title = models.CharField(max_length=400, blank=True)
    acronym = models.CharField(max_length=50, blank=True)
    website = models.URLField(max_length=500, blank=True)
    country = models.CharField(max_length=2, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            # The queue's "correction awaiting approval" column and the corrections list.
            models.Index(fields=["signature", "status"], name="correction_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Correction #{self.pk} of signature #{self.signature_id}: {self.printed}"

    @property
    def printed(self) -> str:
        """The entry as it would print."""
        if self.acronym:
            return f"{self.name} ({self.acronym})"
        return f"{self.name}, {self.title}" if self.title else self.name


class DeliveryQuerySet(models.QuerySet):
    def listing(self) -> "DeliveryQuerySet":
        """Deliveries for a list of links: without the frozen entries and the PDF bytes."""
        return self.defer("entries", "signature_ids", "pdf").order_by("number")

    # What was handed over on a day is never rewritten nor removed, not even in bulk.
    def update(self, **kwargs):
        raise FrozenDeliveryError("Deliveries cannot be changed after they are recorded.")

    def delete(self):
        raise FrozenDeliveryError("Deliveries cannot be deleted.")


class FrozenDeliveryError(Exception):
    """A recorded delivery is what was handed over; it cannot be changed or deleted."""


class Delivery(models.Model):
    """A roster as it was handed to the addressee on a day: frozen, never edited."""

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="deliveries")
    number = models.PositiveIntegerField(editable=False)
    as_of = models.DateField(help_text="The day whose roster was delivered.")
    recipient = models.CharField(max_length=300)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # The roster entries exactly as printed (see letters.rosters.RosterEntry.as_dict).
    entries = models.JSONField(default=list, editable=False)
    pdf = models.BinaryField(editable=False, default=b"")
    pdf_sha256 = models.CharField(max_length=64, editable=False, blank=True)
    # Private: the signature behind each entry, in the same order, so that "since
    # delivery" compares people rather than spellings (a title edited later is
    # not a withdrawal plus a new signature). Never shown on a public page.
    signature_ids = models.JSONField(default=list, editable=False)
    # The text handed over: its version on the letter and the SHA-256 of its words
    # (title, subject, salutation, body and closing, as LetterVersion.sha256 joins them).
    text_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    text_sha256 = models.CharField(max_length=64, editable=False, blank=True)
    # How many signed unnamed, by kind ({"individual": 3, "organization": 1}):
    # frozen with the entries, printed as a count, never as names.
    unnamed = models.JSONField(default=dict, editable=False)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["letter", "number"], name="delivery_unique_number_per_letter"),
        ]

    def __str__(self) -> str:
        return f"{self.letter} — delivery {self.number} ({self.as_of})"

    def save(self, *args, **kwargs) -> None:
        # Recorded once by letters.outputs.deliveries.delivery_record; what was handed
        # over on a day can never be rewritten afterwards.
        if not self._state.adding:
            raise FrozenDeliveryError("A delivery cannot be changed after it is recorded.")
        if not self.unnamed and self.letter_id is not None and self.as_of is not None:
            self.unnamed = self._unnamed_on_roster()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("letters:delivery", args=[self.letter.slug, self.number])

    def delete(self, *args, **kwargs):
        raise FrozenDeliveryError("A delivery cannot be deleted.")

    def clean(self) -> None:
        if self.letter_id is None or self.as_of is None:
            return
        if self.as_of > self.letter.today():
            raise ValidationError({"as_of": "That day has not come yet in the letter’s time zone."})
        if not Signature.objects.on_roster(self.letter, as_of=self.as_of).exists():
            raise ValidationError(
                {"as_of": "Nobody was on the list at the end of that day: there is nothing to deliver."}
            )

    def _unnamed_on_roster(self) -> dict[str, int]:
        unnamed = Signature.objects.on_roster(self.letter, as_of=self.as_of).filter(unnamed=True)
        return unnamed.aggregate(
            individual=models.Count("pk", filter=Q(individual__isnull=False)),
            organization=models.Count("pk", filter=Q(organization__isnull=False)),
        )

    @property
    def unnamed_counts(self) -> dict[str, int]:
        """The unnamed signatures as delivered, by kind (none in a delivery recorded before they existed)."""
        return {kind: self.unnamed.get(kind, 0) for kind in ("individual", "organization")}


# What a list prints of a signatory, and sorts it by (letters.rosters reads these).
# Anything else (an address, notes, a contact, a website) is private or unprinted.
PRINTED_SIGNATORY_FIELDS = {
    Individual: ("name", "title", "country", "collation_key"),
    Organization: ("name", "acronym", "country", "collation_key"),
}


def _printed(values) -> tuple:
    # A country is a Country to the model and a code to values_list; a key bytes or a memoryview.
    return tuple(bytes(v) if isinstance(v, bytes | memoryview) else str(v) for v in values)


def _printed_fields_written(sender, update_fields) -> tuple[str, ...]:
    fields = PRINTED_SIGNATORY_FIELDS[sender]
    return fields if update_fields is None else tuple(f for f in fields if f in update_fields)


@receiver(pre_save, sender=Individual)
@receiver(pre_save, sender=Organization)
def _signatory_saving(sender, instance, update_fields=None, **kwargs) -> None:
    """Reads what the record prints now, so that _signatory_saved can tell whether it changed."""
    fields = _printed_fields_written(sender, update_fields)
    stored = (
        sender.objects.filter(pk=instance.pk).values_list(*fields).first() if instance.pk and fields else None
    )
    instance._printed_before = _printed(stored) if stored is not None else None


@receiver(post_save, sender=Individual)
@receiver(post_save, sender=Organization)
def _signatory_saved(sender, instance, created: bool, update_fields=None, **kwargs) -> None:
    """A signatory's printed entry changed: every letter that lists them has a new list."""
    if created:
        return
    fields = _printed_fields_written(sender, update_fields)
    if not fields:
        return  # an address, notes, a contact: no list prints them
    before = getattr(instance, "_printed_before", None)
    if before is not None and before == _printed(getattr(instance, field) for field in fields):
        return
    field = "individual" if sender is Individual else "organization"
    listed = Signature.objects.filter(**{field: instance}, status=Signature.Status.APPROVED)
    Letter.objects.filter(pk__in=listed.values("letter_id")).roster_changed()


class LetterTranslationQuerySet(models.QuerySet):
    def ready(self) -> "LetterTranslationQuerySet":
        return self.filter(status=LetterTranslation.Status.READY)


class LetterTranslation(MarkdownBody, models.Model):
    """The letter's text in another language; the list of signatories is the letter's own."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft (staff only)"
        READY = "ready", "Ready (published)"

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=10, choices=Letter.Language)
    status = models.CharField(
        max_length=10,
        choices=Status,
        default=Status.DRAFT,
        help_text="Visitors see a translation once it is ready; staff can preview a draft.",
    )
    title = models.CharField(max_length=300)
    subject = models.CharField(max_length=500, blank=True)
    salutation = models.CharField(max_length=300, blank=True)
    body = models.TextField(help_text="Markdown, with the same footnotes as the main text.")
    closing = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The letter's text version this translates: set whenever its words are saved.
    version = models.PositiveIntegerField(null=True, blank=True, editable=False)

    objects = LetterTranslationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "language"],
                name="lettertranslation_unique_language_per_letter",
                violation_error_message="This letter already has a translation in this language.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} in {self.language}"

    def save(self, *args, **kwargs) -> None:
        if self._words_changed():
            self.version = (
                Letter.objects.filter(pk=self.letter_id).values_list("text_version", flat=True).first()
            )
            if (fields := kwargs.get("update_fields")) is not None:
                kwargs["update_fields"] = {*fields, "version"}
        # Pages and files of the letter are cached under its updated_at (and
        # Roster.fingerprint): a new translation text is a new letter for them.
        with transaction.atomic():
            super().save(*args, **kwargs)
            Letter.objects.filter(pk=self.letter_id).update(updated_at=timezone.now())

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            Letter.objects.filter(pk=self.letter_id).update(updated_at=timezone.now())
            return super().delete(*args, **kwargs)

    def _words_changed(self) -> bool:
        """Whether this save writes new words (a status change alone translates no newer text)."""
        if self.pk is None or self.version is None:
            return True
        stored = LetterTranslation.objects.filter(pk=self.pk).values_list(*TEXT_FIELDS).first()
        return stored != tuple(getattr(self, field) for field in TEXT_FIELDS)

    @property
    def is_outdated(self) -> bool:
        """It translates an older text than the letter's current one (the page and the admin say so)."""
        return bool(self.letter.text_version) and (self.version or 0) < self.letter.text_version

    def clean(self) -> None:
        # British and US English are one language to read the letter in.
        if self.letter_id is not None and self.language.split("-")[0] == self.letter.language.split("-")[0]:
            raise ValidationError({"language": "The letter itself is written in this language."})


# The words of a letter that a version keeps (and a change of which makes a new one).
TEXT_FIELDS = ("title", "subject", "salutation", "body", "closing")


class LetterVersion(MarkdownBody, models.Model):
    """
    A letter's text as it stood from `created_at` on: version 1 when the first
    signature arrived, a new one at each change of its words after that
    (letters.lifecycle.letter_text_change). `material`: staff said it changes
    the meaning, so signers of earlier versions are asked again.
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="text_versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    subject = models.CharField(max_length=500, blank=True)
    salutation = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    closing = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # For signers: what changed and why (shown on the versions page and in the e-mail).
    note = models.TextField(blank=True)
    material = models.BooleanField(default=False)

    class Meta:
        # Written by letters.lifecycle.letter_text_change only: kept, never edited nor deleted
        # by hand (the letter's change form and its versions page show them).
        default_permissions = ()
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "number"], name="letterversion_unique_number_per_letter"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} version {self.number}"

    def get_absolute_url(self) -> str:
        return f"{reverse('letters:versions', args=[self.letter.slug])}#v{self.number}"

    @property
    def sha256(self) -> str:
        """The SHA-256 of its words (what a delivery records of the text it handed over)."""
        return text_sha256(self)

    @classmethod
    def current(cls, letter: Letter) -> "LetterVersion":
        """
        The letter's current version; version 1, taken from its text now, when it has
        none yet. Signers record the letter's `text_version` (None while it is 0), so
        version 1 is taken at the first change after someone signed, the text they saw.
        """
        version = cls.objects.filter(letter=letter).order_by("-number").first()
        if version is not None:
            return version
        with transaction.atomic():
            Letter.objects.select_for_update().filter(pk=letter.pk).first()
            # Dated from the first signature: the text signers saw until it first changed.
            first = letter.signatures.aggregate(first=models.Min("submitted_at"))["first"]
            version, _ = cls.objects.get_or_create(
                letter=letter,
                number=1,
                defaults={field: getattr(letter, field) for field in TEXT_FIELDS}
                | {"material": True, "created_at": first or timezone.now()},
            )
            # A new updated_at: the letter's page says which version it shows.
            Letter.objects.filter(pk=letter.pk, text_version=0).update(
                text_version=1,
                material_version=1,
                text_version_at=version.created_at,
                updated_at=timezone.now(),
            )
        letter.text_version = max(letter.text_version, 1)
        letter.material_version = max(letter.material_version, 1)
        letter.text_version_at = letter.text_version_at or version.created_at
        return version


def text_sha256(text) -> str:
    """The SHA-256 of a text's words (a Letter's or a LetterVersion's), one field a line, in UTF-8."""
    words = "\n".join(getattr(text, field) for field in TEXT_FIELDS)
    return hashlib.sha256(words.encode()).hexdigest()


class DigestSubscription(models.Model):
    """A staff member who asked for the daily digest: one e-mail per open letter (letters/admin/digest.py)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_subscription"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The next digest covers what happened since then (the last 24 hours the first time).
    last_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        # Each staff member switches their own digest on the dashboard; no
        # permission gives anyone a say over another's.
        default_permissions = ()

    def __str__(self) -> str:
        return f"Daily digest for {self.user}"


def signatures_keep_their_days(*, letter: Letter, old_timezone: str) -> int:
    """
    Staff changed the letter's time zone (`Letter.save` calls this, so no caller can forget it): a
    signature dated by a day (`dated_by_day`: as an import or staff enter one, the start of
    the day in the letter's zone) stays on that day's list, now from the
    start of the day in the new zone. A moment (a web signature's
    confirmation, one entered with its time) stays the moment it was. Told by
    how it was dated, never by the clock reading midnight: where a day starts
    at 01:00 (America/Santiago's daylight-saving day) an imported day does not
    read 00:00, and a moment may.
    """
    old_zone = zoneinfo.ZoneInfo(old_timezone)
    dated = Signature.objects.filter(letter=letter, signed_at__isnull=False, dated_by_day=True)
    moved = []
    for signature in dated.only("pk", "signed_at").iterator(chunk_size=2000):
        # In UTC: Python never finds a time in a zone's gap (Santiago's 00:00) equal to another zone's.
        start = letter.start_of_day(signature.signed_at.astimezone(old_zone).date()).astimezone(dt.UTC)
        if start != signature.signed_at.astimezone(dt.UTC):
            signature.signed_at = start
            moved.append(signature)
    Signature.objects.bulk_update(moved, ["signed_at"], batch_size=1000)
    return len(moved)


def merged_targets(pks: list[int]) -> dict[int, int]:
    """{signature: the signature that stands for it after merges}, following merges of merges."""
    found: dict[int, int] = {}
    current = dict(
        Signature.objects.filter(pk__in=pks, merged_into__isnull=False).values_list("pk", "merged_into")
    )
    while current:
        for pk, target in current.items():
            found[pk] = target
        followed = dict(
            Signature.objects.filter(pk__in=current.values(), merged_into__isnull=False).values_list(
                "pk", "merged_into"
            )
        )
        current = {pk: followed[target] for pk, target in current.items() if target in followed}
    return found


class ImportColumnMap(models.Model):
    """
    Which of the import's columns each header of a file is, as staff last chose
    it for a file with the same first line (`header_hash`, a SHA-256 of its
    headers): the staff import preselects these choices the next time.
    `mapping` is {header, tidied and in lower case: column, or "ignore"}.
    """

    header_hash = models.CharField(max_length=64, unique=True)
    mapping = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Written by the import form only; no page of the staff panel lists it.
        default_permissions = ()

    def __str__(self) -> str:
        return ", ".join(f"{header} → {column}" for header, column in self.mapping.items())


# A reminder goes at most once per invitation in this time (docs/design.md, "The sign-on period").
INVITATION_REMIND_AFTER = dt.timedelta(days=3)


# What became of a letter's invitations, as staff see it (InvitationQuerySet.counts, the dashboard).
INVITATION_COUNTS = {
    "invited": models.Count("pk"),
    "signed": models.Count("pk", filter=Q(signature__isnull=False)),
    "declined": models.Count("pk", filter=Q(signature__isnull=True, declined_at__isnull=False)),
    "no_answer": models.Count("pk", filter=Q(signature__isnull=True, declined_at__isnull=True)),
}


class InvitationQuerySet(models.QuerySet):
    def unanswered(self) -> "InvitationQuerySet":
        """Neither signed nor declined."""
        return self.filter(signature__isnull=True, declined_at__isnull=True)

    def remindable(self, now: dt.datetime | None = None) -> "InvitationQuerySet":
        """
        Sent, not answered, and neither sent nor reminded within
        INVITATION_REMIND_AFTER: a reminder goes at most once per invitation in that time.
        """
        since = (now or timezone.now()) - INVITATION_REMIND_AFTER
        return self.unanswered().filter(
            Q(reminded_at__isnull=True) | Q(reminded_at__lte=since), sent_at__isnull=False, sent_at__lte=since
        )

    def counts(self) -> dict[str, int]:
        """What staff see per letter: invited, signed, declined, no answer (one query)."""
        return self.aggregate(**INVITATION_COUNTS)


def invitation_token_digest(token: str) -> str:
    """How an invitation is looked up by its token: the token itself is compared in constant time after."""
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """
    A personal invitation to sign a letter, sent to an address staff chose from the address book
    (letters/signing/invitations.py). Its link (/invitations/<token>/) signs without a
    confirmation e-mail: following it proves the address.
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="invitations")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    individual = models.ForeignKey(
        Individual, on_delete=models.CASCADE, null=True, blank=True, related_name="invitations"
    )
    # Private: the address staff chose; never on a public page, in a log line or an export.
    email = models.EmailField(max_length=254)
    # `signatories.normalize.mailbox_key` of `email`: one invitation per mailbox and letter,
    # and what the suppression list is compared with.
    mailbox = models.CharField(max_length=762, editable=False)
    # Unguessable, made on save, never logged. Looked up by its digest, then compared in
    # constant time (Invitation.objects.for_token); kept to write the link into reminders.
    token = models.CharField(max_length=64, editable=False)
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    # The language of the recipient's e-mails and page, when known (else the letter's).
    language = models.CharField(max_length=10, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    declined_at = models.DateTimeField(null=True, blank=True, editable=False)
    signature = models.ForeignKey(
        Signature,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invitations",
        editable=False,
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            individual_xor_organization(
                "invitation", "An invitation is to an individual or to an organization, not both."
            ),
            models.UniqueConstraint(
                fields=["letter", "mailbox"],
                name="invitation_one_per_mailbox_per_letter",
                violation_error_message="This address is already invited to this letter.",
            ),
        ]

    def __str__(self) -> str:
        # No address: the admin history keeps this text.
        return f"Invitation of {self.signatory} to “{Truncator(self.letter.title).chars(40)}”"

    def save(self, *args, **kwargs) -> None:
        self.mailbox = mailbox_key(self.email)
        if not self.token:
            self.token = secrets.token_urlsafe(32)
            self.token_digest = invitation_token_digest(self.token)
        super().save(*args, **kwargs)

    @property
    def signatory(self) -> Individual | Organization | None:
        return self.individual or self.organization

    @property
    def answer(self) -> str:
        """ "signed", "declined" or "" (no answer yet)."""
        if self.signature_id:
            return "signed"
        return "declined" if self.declined_at else ""

    def token_matches(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.token.encode())


class SuppressionQuerySet(models.QuerySet):
    def suppresses(self, email: str) -> bool:
        """Whether `email`'s mailbox asked for no more invitations."""
        return self.filter(mailbox=mailbox_key(email)).exists()


class Suppression(models.Model):
    """
    An address that asked, through the link in an invitation, for no invitation to any
    future letter. Kept by mailbox (`signatories.normalize.mailbox_key`), so "+tags" and
    case do not get round it; every invitation send asks it (letters/signing/invitations.py).
    """

    mailbox = models.CharField(max_length=762, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        verbose_name = "address that wants no invitations"
        verbose_name_plural = "addresses that want no invitations"

    def __str__(self) -> str:
        return f"No invitations (since {self.created_at:%Y-%m-%d})"

    @classmethod
    def add(cls, email: str) -> "Suppression":
        return cls.objects.get_or_create(mailbox=mailbox_key(email))[0]


class Dispute(models.Model):
    """
    "That is my name and I did not sign": a reader's word about an entry of a
    public list, sent through /letters/<slug>/dispute/. The contact address is
    private: no page, export or log shows it, and retention empties it
    (letters.privacy). Staff decide in the admin; suspending the entry is
    letters.lifecycle.signature_suspend.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open: nobody has decided yet"
        SUSPENDED = "suspended", "Entry suspended while we check"
        REINSTATED = "reinstated", "Entry reinstated: the signature stands"
        REJECTED = "rejected", "Signature rejected: the name was used without consent"
        DISMISSED = "dismissed", "Dismissed: nothing to do"

    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="disputes")
    signature = models.ForeignKey(Signature, on_delete=models.CASCADE, related_name="disputes")
    contact_email = models.EmailField(max_length=254, blank=True)
    message = models.TextField(max_length=5000, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    status = models.CharField(max_length=10, choices=Status, default=Status.OPEN)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            # The dashboard's count of open disputes and the admin's "open" filter.
            models.Index(fields=["status", "created_at"], name="dispute_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Dispute #{self.pk} about signature #{self.signature_id}"
