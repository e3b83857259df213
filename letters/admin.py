"""
The staff panel for letters and signatures.

The signature list opens on the moderation queue: confirmed signatures waiting
for approval, oldest first, with warnings computed in the same query
(`letters.moderation.with_warnings`). The writes live in `letters.moderation`;
the admin only collects what staff chose.
"""

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import ActionLocation
from django.contrib.admin.views.main import ChangeList
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ImportForm

from signatories import dedup
from signatories.admin_search import BoundedSearchMixin

from . import moderation
from .models import Delivery, Letter, Signature
from .resources import IMPORT_COLUMNS, SignatureExportResource, SignatureImportResource
from .services import confirmation_resend

# -- Letters ------------------------------------------------------------------

# What the letter list counts (lookups on its signatures), and the queue filter each count links to.
LETTER_COUNTS = {
    "pending": ("unconfirmed", {"status": Signature.Status.PENDING}),
    "awaiting": ("awaiting approval", {"status": Signature.Status.CONFIRMED, "withdrawn_at__isnull": True}),
    "approved": ("approved", {"status": Signature.Status.APPROVED, "withdrawn_at__isnull": True}),
    "withdrawn": ("withdrawn", {"withdrawn_at__isnull": False}),
    "rejected": ("rejected", {"status": Signature.Status.REJECTED}),
}


def signatures_url(letter: Letter, queue: str = "all") -> str:
    return (
        reverse("admin:letters_signature_changelist") + "?" + urlencode({"letter": letter.pk, "queue": queue})
    )


@admin.register(Letter)
class LetterAdmin(BoundedSearchMixin, admin.ModelAdmin):
    list_display = ["title", "status", "awaiting_count", "approved_count", "counts", "public_page"]
    list_filter = ["status", "language"]
    search_fields = ["title", "slug", "subject"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["counts", "links"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "status"]}),
        ("Signatures", {"fields": ["counts", "links"]}),
        ("Text", {"fields": ["subject", "salutation", "body", "closing"]}),
        (
            "Signing",
            {
                "fields": [
                    "opens_at",
                    "closes_at",
                    "accepts_individuals",
                    "accepts_organizations",
                    "requires_approval",
                ]
            },
        ),
        ("Presentation", {"fields": ["timezone", "language", "section_order"]}),
    ]

    def get_queryset(self, request: HttpRequest):
        counts = {
            f"n_{key}": Count(
                "signatures", filter=Q(**{f"signatures__{name}": value for name, value in q.items()})
            )
            for key, (_, q) in LETTER_COUNTS.items()
        }
        return super().get_queryset(request).annotate(**counts)

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
                for key, (label, _) in LETTER_COUNTS.items()
            ),
        )

    @admin.display(description="public page")
    def public_page(self, letter: Letter):
        if letter.status == Letter.Status.DRAFT:
            return format_html('<a href="{}">preview</a>', letter.get_absolute_url())
        return format_html('<a href="{}">{}</a>', letter.get_absolute_url(), letter.get_absolute_url())

    @admin.display(description="links")
    def links(self, letter: Letter):
        import_url = reverse("admin:letters_signature_import") + "?" + urlencode({"letter": letter.pk})
        return format_html(
            '<a href="{}">Public page</a> · <a href="{}">Moderation queue</a> · '
            '<a href="{}">Import a spreadsheet of signatures</a> · '
            '<a href="{}">Reject signatures in bulk</a>',
            letter.get_absolute_url(),
            signatures_url(letter, "awaiting"),
            import_url,
            reverse("admin:letters_signature_invalidate") + "?" + urlencode({"letter": letter.pk}),
        )


# -- Signatures ---------------------------------------------------------------


class QueueFilter(admin.SimpleListFilter):
    """
    The signature list's main filter. Without a choice it shows the queue —
    confirmed signatures awaiting approval — unless staff are searching, when
    they want to find a signature whatever its state.
    """

    title = "status"
    parameter_name = "queue"
    default = "awaiting"
    queries = {
        "awaiting": Q(status=Signature.Status.CONFIRMED, withdrawn_at__isnull=True),
        "pending": Q(status=Signature.Status.PENDING),
        "approved": Q(status=Signature.Status.APPROVED, withdrawn_at__isnull=True),
        "withdrawn": Q(withdrawn_at__isnull=False),
        "rejected": Q(status=Signature.Status.REJECTED),
        "all": Q(),
    }

    def __init__(self, request, params, model, model_admin):
        self.searching = bool(request.GET.get("q"))
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [
            ("awaiting", "Awaiting approval (the queue)"),
            ("pending", "Unconfirmed e-mail"),
            ("approved", "Approved"),
            ("withdrawn", "Withdrawn"),
            ("rejected", "Rejected"),
            ("all", "All"),
        ]

    def effective_value(self) -> str:
        value = self.value()
        if value in self.queries:
            return value
        return "all" if self.searching else self.default

    def choices(self, changelist):
        current = self.effective_value()
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        return queryset.filter(self.queries[self.effective_value()])


class KindFilter(admin.SimpleListFilter):
    title = "type"
    parameter_name = "type"

    def lookups(self, request, model_admin):
        return [("individual", "Individuals"), ("organization", "Organizations")]

    def queryset(self, request, queryset):
        if self.value() == "individual":
            return queryset.filter(individual__isnull=False)
        if self.value() == "organization":
            return queryset.filter(organization__isnull=False)
        return queryset


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 80}))


class SignatureImportForm(ImportForm):
    letter = forms.ModelChoiceField(
        queryset=Letter.objects.order_by("title"),
        help_text="Every row of the file becomes an approved signature of this letter.",
    )
    field_order = ["letter", "resource", "import_file", "format"]


class SignatureConfirmImportForm(ConfirmImportForm):
    letter = forms.ModelChoiceField(queryset=Letter.objects.all(), widget=forms.HiddenInput)


class InvalidationForm(forms.Form):
    letter = forms.ModelChoiceField(queryset=Letter.objects.order_by("title"))
    ip_hash = forms.CharField(
        required=False, max_length=64, label="IP hash", help_text="As shown on a signature."
    )
    email_domain = forms.CharField(
        required=False, max_length=200, label="E-mail domain", help_text="e.g. example.com"
    )
    submitted_from = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Server time (UTC unless TIME_ZONE says otherwise).",
    )
    submitted_until = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    statuses = forms.MultipleChoiceField(
        required=False,
        choices=[(value, label) for value, label in Signature.Status.choices if value != "rejected"],
        widget=forms.CheckboxSelectMultiple,
        label="Status",
        help_text="None ticked: any status.",
    )
    reason = forms.CharField(required=False, max_length=500, widget=forms.TextInput(attrs={"size": 80}))
    expected_count = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean_email_domain(self) -> str:
        domain = self.cleaned_data["email_domain"].strip().lstrip("@").lower()
        if domain and ("@" in domain or " " in domain or "." not in domain):
            raise forms.ValidationError("Give a domain such as example.com.")
        return domain

    def clean(self):
        data = super().clean()
        start, end = data.get("submitted_from"), data.get("submitted_until")
        if start and end and end <= start:
            self.add_error("submitted_until", "The end of the window must come after its start.")
        return data

    def criteria(self) -> moderation.InvalidationCriteria:
        data = self.cleaned_data
        return moderation.InvalidationCriteria(
            letter=data["letter"],
            ip_hash=data["ip_hash"].strip(),
            email_domain=data["email_domain"],
            submitted_from=data["submitted_from"],
            submitted_until=data["submitted_until"],
            statuses=tuple(data["statuses"]),
        )


class QueueChangeList(ChangeList):
    """The signature list, plus the near-spelling check of the page's organizations (two queries in all)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        organizations = [
            signature.organization for signature in self.result_list if signature.organization_id
        ]
        close = dedup.close_organizations(organizations)
        for signature in self.result_list:
            signature.close_organization = close.get(signature.organization_id)


@admin.register(Signature)
class SignatureAdmin(ImportExportMixin, BoundedSearchMixin, admin.ModelAdmin):
    list_display = [
        "signatory_name",
        "kind",
        "title_or_signer",
        "email",
        "country",
        "letter_title",
        "status",
        "submitted_at",
        "confirmed_at",
        "warnings",
    ]
    list_filter = [QueueFilter, "letter", KindFilter, "source", "submitted_at", "signed_at"]
    list_select_related = ["letter", "individual", "organization"]
    ordering = ["submitted_at", "pk"]
    search_fields = [
        "individual__name",
        "individual__email",
        "organization__name",
        "organization__acronym",
        "contact_email",
        "signer_name",
    ]
    search_help_text = "Name, e-mail, organization or acronym. Searching looks at every status."
    raw_id_fields = ["individual", "organization"]
    readonly_fields = [
        "submitted_at",
        "confirmed_at",
        "approved_at",
        "approved_by",
        "rejected_at",
        "ip_hash",
        "updated_at",
    ]
    actions = ["approve", "reject", "resend_confirmation", "mark_withdrawn"]
    change_list_template = "admin/letters/signature/change_list.html"
    import_template_name = "admin/letters/signature/import.html"
    import_form_class = SignatureImportForm
    confirm_form_class = SignatureConfirmImportForm
    formats = [CSV, XLSX]

    # -- the list ------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "letters_signature_changelist":
            # Only the list shows warnings; exports and forms skip the subqueries.
            queryset = moderation.with_warnings(queryset)
        return queryset

    def get_changelist(self, request: HttpRequest, **kwargs):
        return QueueChangeList

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        # Signatures are rejected or withdrawn, never deleted by an ordinary action.
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="name", ordering="individual__name")
    def signatory_name(self, signature: Signature) -> str:
        signatory = signature.signatory
        return str(signatory.display_name if signature.organization_id else signatory.name)

    @admin.display(description="type")
    def kind(self, signature: Signature) -> str:
        return "organization" if signature.organization_id else "individual"

    @admin.display(description="title / signed by")
    def title_or_signer(self, signature: Signature) -> str:
        if signature.individual_id:
            return signature.individual.title
        return signature.signer_name

    @admin.display(description="e-mail", ordering="contact_email")
    def email(self, signature: Signature) -> str:
        return signature.contact_email or (signature.individual.email if signature.individual_id else "")

    @admin.display(description="country")
    def country(self, signature: Signature) -> str:
        return signature.signatory.country.name if signature.signatory.country else ""

    @admin.display(description="letter", ordering="letter__title")
    def letter_title(self, signature: Signature) -> str:
        return Truncator(signature.letter.title).chars(40)

    @admin.display(description="warnings")
    def warnings(self, signature: Signature):
        found = []
        if getattr(signature, "warn_email", False):
            found.append(("", "same e-mail as another signature of this letter"))
        if getattr(signature, "warn_organization", False) or getattr(signature, "close_organization", None):
            duplicates = reverse("admin:signatories_organization_duplicates")
            found.append((duplicates, "organization name close to another"))
        if signature.notes:
            # The signup form notes what it noticed (a near namesake, a different spelling on file).
            found.append(("", Truncator(signature.notes).chars(160)))
        if getattr(signature, "warn_ip", 0) >= moderation.IP_BURST_SIZE:
            invalidate = (
                reverse("admin:letters_signature_invalidate")
                + "?"
                + urlencode({"letter": signature.letter_id, "ip_hash": signature.ip_hash})
            )
            found.append((invalidate, f"{signature.warn_ip} signatures from one address within an hour"))
        return format_html_join(
            "",
            '<div class="warning">⚠ {}</div>',
            ((format_html('<a href="{}">{}</a>', url, text) if url else text,) for url, text in found),
        )

    def get_changeform_initial_data(self, request: HttpRequest):
        return {
            "source": Signature.Source.STAFF,
            "public_consent": True,
            **super().get_changeform_initial_data(request),
        }

    def save_model(self, request: HttpRequest, obj: Signature, form, change: bool) -> None:
        # Setting the status by hand records the same facts as the actions do.
        if "status" in form.changed_data:
            now = timezone.now()
            if obj.status == Signature.Status.APPROVED:
                obj.approved_at, obj.approved_by = now, request.user
                obj.signed_at = obj.signed_at or obj.confirmed_at or now
            elif obj.status == Signature.Status.REJECTED:
                obj.rejected_at = now
        super().save_model(request, obj, form, change)

    # -- actions -------------------------------------------------------------

    def _report(self, request: HttpRequest, outcome: moderation.Outcome, done: str) -> None:
        message = f"{outcome.changed} signature{'s' if outcome.changed != 1 else ''} {done}."
        if outcome.skipped:
            message += f" {outcome.skipped} left as they were (the action does not apply to them)."
        self.message_user(request, message, messages.SUCCESS if outcome.changed else messages.WARNING)

    @admin.action(description="Approve selected signatures", permissions=["change"])
    def approve(self, request: HttpRequest, queryset):
        self._report(
            request, moderation.signatures_approve(signatures=queryset, user=request.user), "approved"
        )

    @admin.action(description="Reject selected signatures (with a reason)…", permissions=["change"])
    def reject(self, request: HttpRequest, queryset):
        return self._with_reason(request, queryset, "reject", required=True)

    @admin.action(description="Mark selected signatures withdrawn…", permissions=["change"])
    def mark_withdrawn(self, request: HttpRequest, queryset):
        return self._with_reason(request, queryset, "mark_withdrawn", required=False)

    def _with_reason(self, request: HttpRequest, queryset, action: str, *, required: bool):
        """Ask for the reason on a page of its own, then apply the action to the same selection."""
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        form.fields["reason"].required = required
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            try:
                if action == "reject":
                    outcome = moderation.signatures_reject(
                        signatures=queryset, user=request.user, reason=reason
                    )
                    self._report(request, outcome, "rejected")
                else:
                    outcome = moderation.signatures_withdraw(
                        signatures=queryset, user=request.user, reason=reason
                    )
                    self._report(request, outcome, "marked withdrawn")
            except moderation.ModerationError as error:
                self.message_user(request, str(error), messages.ERROR)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject signatures" if action == "reject" else "Mark signatures withdrawn",
            "opts": self.opts,
            "form": form,
            "action": action,
            "signatures": queryset.select_related("individual", "organization", "letter")[:200],
            "count": queryset.count(),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/letters/signature/action_reason.html", context)

    @admin.action(description="Resend the confirmation e-mail", permissions=["change"])
    def resend_confirmation(self, request: HttpRequest, queryset):
        sent = []
        for signature in queryset.select_related("letter", "individual", "organization"):
            if confirmation_resend(signature=signature):
                sent.append(signature)
        if sent:
            LogEntry.objects.log_actions(request.user.pk, sent, CHANGE, "Sent a new confirmation link.")
        skipped = queryset.count() - len(sent)
        self._report(request, moderation.Outcome(changed=len(sent), skipped=skipped), "sent a new link")

    # -- bulk invalidation ---------------------------------------------------

    def get_urls(self):
        urls = [
            path(
                "invalidate/",
                self.admin_site.admin_view(self.invalidate_view),
                name="letters_signature_invalidate",
            )
        ]
        return urls + super().get_urls()

    def invalidate_view(self, request: HttpRequest):
        """
        Reject many signatures of a letter at once (UK Parliament petitions style):
        choose criteria, see how many match, confirm with a reason.
        """
        if not self.has_change_permission(request):
            raise admin.exceptions.PermissionDenied
        form = InvalidationForm(
            request.POST or None, initial=request.GET.dict() if not request.POST else None
        )
        preview = None
        if request.method == "POST" and form.is_valid():
            criteria = form.criteria()
            if not criteria.is_narrowed:
                form.add_error(None, "Choose at least one criterion besides the letter.")
            else:
                if "confirm" in request.POST:
                    outcome = self._invalidate(request, form, criteria)
                    if outcome is not None:
                        self._report(request, outcome, "rejected")
                        return HttpResponseRedirect(signatures_url(criteria.letter, "rejected"))
                matches = criteria.signatures()
                sample = matches.select_related("individual", "organization").order_by("submitted_at")
                preview = {"count": matches.count(), "sample": sample[:50]}
                form.data = form.data.copy()
                form.data["expected_count"] = preview["count"]
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject signatures in bulk",
            "opts": self.opts,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/letters/signature/invalidate.html", context)

    def _invalidate(self, request, form: InvalidationForm, criteria) -> moderation.Outcome | None:
        reason = form.cleaned_data["reason"]
        expected = form.cleaned_data["expected_count"]
        if not moderation.clean_reason(reason):
            form.add_error("reason", "Give a reason for the rejection.")
        elif expected is None:
            form.add_error(None, "Look at the matching signatures before rejecting them.")
        else:
            try:
                return moderation.signatures_invalidate(
                    criteria=criteria, reason=reason, user=request.user, expected_count=expected
                )
            except moderation.ModerationError as error:
                form.add_error(None, str(error))
        return None

    # -- import and export (django-import-export) ----------------------------

    def get_import_resource_classes(self, request: HttpRequest):
        return [SignatureImportResource]

    def get_export_resource_classes(self, request: HttpRequest):
        return [SignatureExportResource]

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import creates signatures, individuals and organizations.
        return request.user.has_perms(
            ["letters.add_signature", "signatories.add_individual", "signatories.add_organization"]
        )

    def get_import_form_initial(self, request: HttpRequest):
        initial = super().get_import_form_initial(request)
        if letter := request.GET.get("letter"):
            initial["letter"] = letter
        return initial

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs):
        form = kwargs.get("form")
        return {"letter": getattr(form, "cleaned_data", {}).get("letter")}

    def get_confirm_form_initial(self, request: HttpRequest, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["letter"] = import_form.cleaned_data["letter"].pk
            initial["letter_title"] = import_form.cleaned_data["letter"].title
        return initial

    def get_import_context_data(self, **kwargs):
        return {**super().get_import_context_data(**kwargs), "import_columns": IMPORT_COLUMNS}

    def process_result(self, result, request: HttpRequest):
        # The preview passed, but the data may have changed since: nothing was stored.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                "Nothing was imported: the file no longer imports cleanly. Upload it again to see why.",
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:letters_signature_import"))
        return super().process_result(result, request)

    def add_success_message(self, result, request: HttpRequest) -> None:
        totals = result.totals
        message = f"Imported {totals['new']} signatures."
        if totals["skip"]:
            message += f" {totals['skip']} rows skipped (blank, or already signed this letter)."
        self.message_user(request, message, messages.SUCCESS)

    def get_export_filename(self, request: HttpRequest, queryset, file_format):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d-%H%M")
        return f"signatures-{stamp}.{file_format.get_extension()}"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Staff record a delivery (letter, day, recipient, note); after that it can be read, never changed."""

    list_display = ["letter", "number", "as_of", "recipient", "recorded_at", "recorded_by"]
    list_filter = ["letter"]
    list_select_related = ["letter", "recorded_by"]
    date_hierarchy = "as_of"
    add_fields = ["letter", "as_of", "recipient", "note"]
    recorded_fields = [
        "letter",
        "number",
        "as_of",
        "recipient",
        "note",
        "recorded_by",
        "recorded_at",
        "signatory_count",
        "pdf_sha256",
        "public_page",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")

    def get_fields(self, request, obj=None):
        return self.add_fields if obj is None else self.recorded_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.recorded_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="signatories")
    def signatory_count(self, obj: Delivery) -> int:
        return len(obj.entries)

    @admin.display(description="public page and PDF")
    def public_page(self, obj: Delivery):
        from django.urls import reverse
        from django.utils.html import format_html

        pdf_url = reverse("letters:delivery_pdf", args=[obj.letter.slug, obj.number])
        return format_html('<a href="{}">{}</a> · <a href="{}">PDF</a>', obj.get_absolute_url(), obj, pdf_url)

    def save_model(self, request, obj: Delivery, form, change: bool) -> None:
        from .deliveries import delivery_record

        recorded = delivery_record(
            letter=obj.letter, as_of=obj.as_of, recipient=obj.recipient, note=obj.note, user=request.user
        )
        # The admin goes on with `obj` (its log entry, the redirect): make it the recorded delivery.
        obj.__dict__.update(recorded.__dict__)
