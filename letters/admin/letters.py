"""Letters in the staff panel: the list with its counts by status, and the change form's links."""

from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from letters import lifecycle
from letters.admin.params import GuardedListMixin
from letters.admin.times import LetterZoneAdminMixin, TimeZoneField, local_time, zone_named
from letters.lifecycle.moderation import BUCKETS, bucket_q
from letters.lifecycle.retention import letter_purge_date
from letters.models import TEXT_FIELDS, Letter, LetterTranslation, validate_timezone
from letters.signing.tasks import send_text_change_email
from signatories.admin_search import BoundedSearchMixin

# Plain help for the fields organizers mix up.
HELP = {
    "title": "The letter’s name on the site, in lists of letters and in e-mails to signers, "
    "e.g. “Protect civic space in Veltrana”.",
    "subject": "The “Re:” line printed at the top of the letter itself, e.g. “Re: The draft law on "
    "associations”. Optional.",
    "body": "The letter itself. Leave an empty line between paragraphs. A footnote: type [^1] where "
    "its number goes, then at the very end, on a line of its own, [^1]: and the note’s text.",
}


def signatures_url(letter: Letter, queue: str = "all") -> str:
    return (
        reverse("admin:letters_signature_changelist") + "?" + urlencode({"letter": letter.pk, "queue": queue})
    )


class LetterForm(forms.ModelForm):
    """The letter; once anyone has signed, a change to its words says what kind of change it is."""

    EDITORIAL, MATERIAL = "editorial", "material"
    change_kind = forms.ChoiceField(
        label="Kind of change",
        required=False,
        choices=[
            ("", "—"),
            (EDITORIAL, "Editorial (no change of meaning): typos, links; nobody is asked again"),
            (MATERIAL, "Material: the meaning changes; every signer is asked to agree again or withdraw"),
        ],
        help_text="Needed only when you change the text of a letter people have signed.",
    )
    change_note = forms.CharField(
        label="Note for signers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What changed and why, in plain words: shown on the letter’s versions page and, "
        "after a material change, in the e-mail to signers.",
    )

    # No Meta: LetterAdmin gives the model and the fields (its fieldsets).

    def text_changes(self) -> dict[str, str]:
        return {field: self.cleaned_data[field] for field in TEXT_FIELDS if field in self.changed_data}

    def is_signed(self) -> bool:
        letter = self.instance
        return letter.pk is not None and (letter.text_version > 0 or letter.signatures.exists())

    def clean(self):
        cleaned = super().clean()
        if not self.is_signed() or not any(field in self.changed_data for field in TEXT_FIELDS):
            return cleaned
        if cleaned.get("change_kind") not in (self.EDITORIAL, self.MATERIAL):
            self.add_error(
                "change_kind",
                "People have signed this letter: say whether this change keeps its meaning (editorial) "
                "or changes it (material).",
            )
        if not (cleaned.get("change_note") or "").strip():
            self.add_error("change_note", "Say for signers what changed and why: it goes with the new text.")
        return cleaned


class LetterTranslationInline(admin.StackedInline):
    """The letter in other languages; a draft stays hidden from visitors until it is marked ready."""

    model = LetterTranslation
    extra = 0
    template = "admin/letters/letter/translation_inline.html"
    fields = [
        "language",
        "status",
        "translates",
        "preview",
        "title",
        "subject",
        "salutation",
        "body",
        "closing",
    ]
    readonly_fields = ["preview", "translates"]

    @admin.display(description="translates")
    def translates(self, translation: LetterTranslation):
        if translation.pk is None or not translation.letter.text_version:
            return "The letter’s text as it stands."
        if translation.is_outdated:
            return format_html(
                "<strong>Version {} of the text; the letter is at version {}.</strong> Update the "
                'translation (<a href="{}">see what changed</a>): its page says it is of an earlier version '
                "until you save new words.",
                translation.version or 1,
                translation.letter.text_version,
                reverse("letters:versions", args=[translation.letter.slug]),
            )
        return f"Version {translation.version} of the text (the current one)."

    @admin.display(description="preview")
    def preview(self, translation: LetterTranslation):
        if translation.pk is None:
            return "Save to preview."
        url = f"{translation.letter.get_absolute_url()}?{urlencode({'lang': translation.language})}"
        return format_html('<a href="{}">Preview the page in this language</a>', url)


@admin.register(Letter)
class LetterAdmin(LetterZoneAdminMixin, GuardedListMixin, BoundedSearchMixin, admin.ModelAdmin):
    form = LetterForm
    inlines = [LetterTranslationInline]
    list_display = ["title", "status", "awaiting_count", "approved_count", "counts", "closes", "public_page"]
    list_filter = ["status", "language"]
    search_fields = ["title", "slug", "subject"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["counts", "links", "retention", "preview", "private_link", "text_versions"]
    actions = ["private_link_renew"]
    fieldsets = [
        # The zone first: every time below is read in it.
        (None, {"fields": ["title", "slug", "status", "timezone", "language"]}),
        ("Signatures", {"fields": ["counts", "links"]}),
        (
            "Text",
            {
                "fields": [
                    "subject",
                    "salutation",
                    "body",
                    "closing",
                    "preview",
                    "text_versions",
                    "change_kind",
                    "change_note",
                ]
            },
        ),
        (
            "Signing",
            {
                "fields": [
                    "opens_at",
                    "closes_at",
                    "accepts_individuals",
                    "accepts_organizations",
                    "requires_approval",
                    "requires_verified_organizations",
                    "retention",
                ]
            },
        ),
        (
            "Circulating before it is public",
            {
                "description": "While the status is “Circulating”, only people with the private link can "
                "read and sign the letter; everyone else sees “not found”. It opens to everyone by itself "
                "at “Publish at”.",
                "fields": ["private_link", "sign_by", "publish_at"],
            },
        ),
        ("Presentation", {"fields": ["section_order"]}),
    ]

    def get_queryset(self, request: HttpRequest):
        counts = {f"n_{key}": Count("signatures", filter=bucket_q(key, "signatures__")) for key in BUCKETS}
        return super().get_queryset(request).annotate(**counts)

    def letter_zone(self, request: HttpRequest, object_id) -> str:
        # The letter's own zone: the one chosen in this very form when it is being changed.
        chosen = zone_named(request.POST.get("timezone", ""))  # "KST" too
        if chosen:
            return chosen
        letter = self.get_object(request, object_id) if object_id else None
        return letter.timezone if letter else settings.TIME_ZONE

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "timezone":
            # Checked by the form, beside the field: a name the model refused later would stay on the
            # letter the page goes on to show (its "today", its times), and the page would fail.
            return TimeZoneField(
                label="Time zone",
                initial=settings.TIME_ZONE,
                validators=[validate_timezone],
                help_text="Where the letter’s days begin and end: the opening and closing times below, "
                "and the days of its lists, are read in this zone. Choose the city.",
            )
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name in HELP:
            field.help_text = HELP[db_field.name]
        return field

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and not zone_named(request.POST.get("timezone", "")):
            # A new letter: its zone is chosen in this very form, so no zone is named yet.
            for name in ("opens_at", "closes_at", "sign_by", "publish_at"):
                if name in form.base_fields:
                    form.base_fields[name].widget.zone = None
        return form

    @admin.display(description="preview")
    def preview(self, letter: Letter):
        if letter.pk is None:
            return "Save to preview."
        url = f"{letter.get_absolute_url()}?{urlencode({'lang': letter.language})}"
        return format_html('<a href="{}">Preview the page as visitors see it</a>', url)

    @admin.display(description="private link")
    def private_link(self, letter: Letter):
        if letter.pk is None or not letter.private_key:
            return "Save the letter to get its private link."
        url = settings.SITE_URL.rstrip("/") + letter.private_url()
        # A read-only field to copy from (the site's CSP runs no inline script).
        return format_html(
            '<input type="text" readonly value="{}" size="70" aria-label="Private link"> '
            "<br>Send it only to partners; if it leaks, renew it (Letters list, action "
            "“Renew the private link”): the old one stops working.",
            url,
        )

    @admin.action(description="Renew the private link (the old one stops working)", permissions=["change"])
    def private_link_renew(self, request: HttpRequest, queryset):
        for letter in queryset:
            letter.private_key_renew()
        self.message_user(request, f"New private links for {queryset.count()} letter(s): send the new ones.")

    @admin.display(description="closes", ordering="closes_at")
    def closes(self, letter: Letter) -> str:
        return local_time(letter.closes_at, letter)

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if obj is None:  # nothing to count or link to before the letter exists
            return [fieldset for fieldset in self.fieldsets if fieldset[0] != "Signatures"]
        return self.fieldsets

    @admin.display(description="awaiting approval", ordering="n_awaiting")
    def awaiting_count(self, letter: Letter):
        return format_html('<a href="{}">{}</a>', signatures_url(letter, "awaiting"), letter.n_awaiting)

    @admin.display(description="approved", ordering="n_approved")
    def approved_count(self, letter: Letter):
        return format_html('<a href="{}">{}</a>', signatures_url(letter, "approved"), letter.n_approved)

    @admin.display(description="signatures by status")
    def counts(self, letter: Letter):
        return format_html_join(
            " · ",
            '<a href="{}">{} {}</a>',
            (
                (signatures_url(letter, key), getattr(letter, f"n_{key}", 0), label)
                for key, (label, _) in BUCKETS.items()
            ),
        )

    @admin.display(description="public page")
    def public_page(self, letter: Letter):
        if letter.status == Letter.Status.DRAFT:
            return format_html('<a href="{}">preview</a>', letter.get_absolute_url())
        return format_html('<a href="{}">{}</a>', letter.get_absolute_url(), letter.get_absolute_url())

    def save_model(self, request: HttpRequest, obj: Letter, form, change: bool) -> None:
        """A signed letter's words change through `letter_text_change` alone: a new version."""
        texts = form.text_changes() if change and form.is_signed() else {}
        if not texts:
            super().save_model(request, obj, form, change)
            return
        stored = Letter.objects.get(pk=obj.pk)
        for field in texts:
            setattr(obj, field, getattr(stored, field))
        super().save_model(request, obj, form, change)
        material = form.cleaned_data["change_kind"] == LetterForm.MATERIAL
        version = lifecycle.letter_text_change(
            letter=obj, user=request.user, material=material, note=form.cleaned_data["change_note"], **texts
        )
        obj.refresh_from_db()
        if version is None:
            return
        for signature_id in version.asked:
            ask = partial(send_text_change_email.enqueue, signature_id=signature_id, version=version.number)
            transaction.on_commit(ask, robust=True)
        kind = "material" if material else "editorial"
        asked = (
            f"; {len(version.asked)} signer(s) are asked by e-mail to agree or withdraw" if material else ""
        )
        self.message_user(request, f"Version {version.number} of the text saved ({kind} change){asked}.")

    @admin.display(description="versions of the text")
    def text_versions(self, letter: Letter):
        if letter.pk is None or not letter.text_version:
            return "One text so far: version 1 is kept once someone has signed and the text changes."
        return format_html(
            'Version {} is current. <a href="{}">Every version and what changed</a>',
            letter.text_version,
            reverse("letters:versions", args=[letter.slug]),
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is not LetterTranslation:
            return
        for translation in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
            if translation.status == LetterTranslation.Status.DRAFT:
                messages.info(
                    request,
                    f"The {translation.get_language_display()} translation is saved as a draft: visitors "
                    "do not see it until its status is “ready”.",
                )

    @admin.display(description="private data")
    def retention(self, letter: Letter) -> str:
        purge = letter_purge_date(letter) if letter.pk else None
        if purge is None:
            return (
                f"Kept while the letter is open; deleted {settings.RETENTION_DAYS} days after it closes "
                "(manage.py purge_personal_data)."
            )
        day = date_format(timezone.localtime(purge), "j F Y")
        if purge <= timezone.now():
            return (
                f"Past retention since {day}: signers' e-mail addresses, IP hashes and notes, and the "
                "names of people who signed for an organization, are deleted by the daily purge. "
                "The names printed on the list stay on it, in its PDFs and in its deliveries."
            )
        return (
            f"Signers' e-mail addresses, IP hashes and notes, and the names of people who signed for "
            f"an organization, will be deleted on {day}. The names printed on the list stay on it, "
            "in its PDFs and in its deliveries."
        )

    @admin.display(description="links")
    def links(self, letter: Letter):
        import_url = reverse("admin:letters_signature_import") + "?" + urlencode({"letter": letter.pk})
        return format_html(
            '<a href="{}">Public page</a> · <a href="{}">Moderation queue</a> · '
            '<a href="{}">Import a spreadsheet of signatures</a> · '
            '<a href="{}">Reject signatures in bulk</a> · <a href="{}">Word document</a>',
            letter.get_absolute_url(),
            signatures_url(letter, "awaiting"),
            import_url,
            reverse("admin:letters_signature_invalidate") + "?" + urlencode({"letter": letter.pk}),
            reverse("letters:docx", args=[letter.slug]),
        )
