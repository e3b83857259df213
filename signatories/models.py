from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_countries.fields import CountryField

from signatories.normalize import (
    canonical_email,
    clean_text,
    collation_key,
    derive_sort_name,
    name_key,
    name_skeleton,
    validate_printed_line,
    validate_printed_name,
)


class Signatory(models.Model):
    """
    What organizations and individuals share: the keys derived from their names
    on every save (`name_key` for identity, `collation_key` for sorting), private
    notes, and timestamps.
    """

    # Derived on save by refresh_derived_fields(); listed so that
    # save(update_fields=…) writes them too.
    DERIVED_FIELDS: tuple[str, ...] = ("name_key", "collation_key")
    # What is printed on a list, and the rule each must follow (the public form's, `LineField`).
    PRINTED_LINES: dict = {"name": validate_printed_name, "sort_name": validate_printed_line}

    notes = models.TextField(blank=True)
    collation_key = models.BinaryField(editable=False, default=b"")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        self.refresh_derived_fields()
        if update_fields := kwargs.get("update_fields"):
            kwargs["update_fields"] = {*update_fields, *self.DERIVED_FIELDS}
        super().save(*args, **kwargs)

    def clean_fields(self, exclude=None) -> None:
        """
        The field checks, then the rule of a printed line on each printed field
        not excluded (here rather than as field validators: those would need a
        migration). The error stands beside the field in a change form.
        """
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict({})
        else:
            errors = {}
        for field, rule in self.PRINTED_LINES.items():
            if field in errors or (exclude and field in exclude):
                continue
            try:
                rule(getattr(self, field))
            except ValidationError as error:
                errors[field] = error.error_list
        if errors:
            raise ValidationError(errors)

    def refresh_derived_fields(self) -> None:
        """Tidy the texts and derive the keys. Call before bulk_create/bulk_update, which bypass save()."""
        self.name = clean_text(self.name)
        self.sort_name = clean_text(self.sort_name)
        # Normalizing can lengthen a name ("ﷺ" spells out as 18 letters): the key
        # keeps what its column holds, ample to tell names apart.
        self.name_key = name_key(self.name)[: self._meta.get_field("name_key").max_length]
        self.collation_key = collation_key(self.effective_sort_name)

    @property
    def effective_sort_name(self) -> str:
        raise NotImplementedError


class Organization(Signatory):
    PRINTED_LINES = {**Signatory.PRINTED_LINES, "acronym": validate_printed_line}

    name = models.CharField(max_length=300)
    acronym = models.CharField(max_length=50, blank=True)
    country = CountryField(blank=True)
    website = models.URLField(max_length=500, blank=True)
    sort_name = models.CharField(
        max_length=300,
        blank=True,
        help_text='Leave empty to sort by the name; set it for names like "Elders, The".',
    )
    # Private: never shown on a public page or in the press CSV.
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(max_length=254, blank=True)

    # Derived on save.
    name_key = models.CharField(max_length=300, editable=False, db_index=True)

    class Meta:
        indexes = [
            # Duplicate detection: "same acronym in the same country".
            models.Index(Lower("acronym"), "country", name="org_acronym_country_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name

    def refresh_derived_fields(self) -> None:
        self.acronym = clean_text(self.acronym)
        super().refresh_derived_fields()

    @property
    def display_name(self) -> str:
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    @property
    def effective_sort_name(self) -> str:
        return self.sort_name or self.name


class Individual(Signatory):
    DERIVED_FIELDS = ("canonical_email", "name_key", "name_skeleton", "collation_key")
    PRINTED_LINES = {**Signatory.PRINTED_LINES, "title": validate_printed_line}

    name = models.CharField(max_length=200, help_text="As printed, e.g. “Tomás Ojea-Quintana”.")
    sort_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Family name first. Leave empty to derive it from the last word of the name "
        "(“Ojea-Quintana, Tomás”); set it for names written family name first (“Lee Yanghee”).",
    )
    title = models.CharField(
        max_length=400, blank=True, help_text="The affiliation line printed under the name."
    )
    country = CountryField(blank=True)
    # Private.
    email = models.EmailField(max_length=254, blank=True)

    # Derived on save.
    # 254 × 3: casefold() may turn one character of the address into three ("ﬃ" into "ffi").
    canonical_email = models.CharField(max_length=762, editable=False, blank=True)
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    # How the name looks (`normalize.name_skeleton`): a look-alike of a listed
    # person's name waits for staff (`letters.lifecycle.rules.namesake_listed`).
    name_skeleton = models.CharField(max_length=200, editable=False, db_index=True, default="")
    # When the person's name was deleted (an erasure, or retention of a name no
    # list printed): the record is nobody to compare anyone with any more.
    forgotten_at = models.DateTimeField(null=True, blank=True, editable=False)
    # As the person gives it: the list sorts them by it ("Lee" for "Lee Yanghee"),
    # unless staff set a sort name. Empty: the last word of the name is used.
    family_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="As the person gives it (“Lee” for “Lee Yanghee”): the list sorts by it "
        "when no sort name is set.",
    )

    class Meta:
        constraints = [
            # One person per mailbox: the signup form finds the individual by this.
            models.UniqueConstraint(
                fields=["canonical_email"],
                condition=~models.Q(canonical_email=""),
                name="individual_unique_canonical_email",
            ),
        ]
        indexes = [
            # Indexed on its own as well: SQLite cannot look a bound value up in
            # the partial unique index above. (A plain index: no LIKE variant.)
            models.Index(fields=["canonical_email"], name="individual_email_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def validate_constraints(self, exclude=None) -> None:
        super().validate_constraints(exclude)
        # A form shows the address, never the mailbox derived from it, so Django
        # leaves the mailbox's constraint out: check it by the address instead.
        if exclude and "email" in exclude:
            return
        mailbox = canonical_email(self.email) if self.email.strip() else ""
        other = mailbox and Individual.objects.filter(canonical_email=mailbox).exclude(pk=self.pk).first()
        if other:
            raise ValidationError(
                {
                    "email": f"#{other.pk} {other.name} has this mailbox already:"
                    " one person, one record (merge them)."
                }
            )

    @property
    def display_name(self) -> str:
        return self.name

    def refresh_derived_fields(self) -> None:
        self.title = clean_text(self.title)
        self.family_name = clean_text(self.family_name)
        self.email = self.email.strip()
        self.canonical_email = canonical_email(self.email) if self.email else ""
        super().refresh_derived_fields()
        self.name_skeleton = name_skeleton(self.name)[: self._meta.get_field("name_skeleton").max_length]

    @property
    def effective_sort_name(self) -> str:
        return self.sort_name or derive_sort_name(self.name, family_name=self.family_name)


class DismissedDuplicate(models.Model):
    """
    Two records the "possible duplicates" page paired and staff found to be
    different (two chapters of one network, two people of one name): the page
    no longer proposes them.
    """

    class Kind(models.TextChoices):
        ORGANIZATION = "organization", "Organizations"
        INDIVIDUAL = "individual", "Individuals"

    kind = models.CharField(max_length=12, choices=Kind)
    # The lower primary key first, so that a pair has one spelling.
    first_id = models.PositiveBigIntegerField()
    second_id = models.PositiveBigIntegerField()
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "first_id", "second_id"], name="dismissed_duplicate_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(first_id__lt=models.F("second_id")), name="dismissed_duplicate_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.first_id} and #{self.second_id} are different"
