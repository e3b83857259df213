from django.contrib import admin

from .models import Delivery, Letter, Signature


@admin.register(Letter)
class LetterAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "status", "opens_at", "closes_at", "language", "timezone"]
    list_filter = ["status", "language"]
    search_fields = ["title", "slug", "subject"]
    prepopulated_fields = {"slug": ["title"]}
    fieldsets = [
        (None, {"fields": ["title", "slug", "status"]}),
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


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ["__str__", "letter", "status", "source", "submitted_at", "signed_at", "withdrawn_at"]
    list_filter = ["letter", "status", "source", "submitted_at"]
    list_select_related = ["letter", "individual", "organization"]
    search_fields = [
        "individual__name",
        "individual__email",
        "organization__name",
        "organization__acronym",
        "contact_email",
    ]
    raw_id_fields = ["individual", "organization"]
    readonly_fields = ["submitted_at", "confirmed_at", "approved_at", "approved_by", "ip_hash", "updated_at"]
    date_hierarchy = "submitted_at"


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Staff record a delivery (letter, day, recipient, note); after that it can be read, never changed."""

    list_display = ["letter", "number", "as_of", "recipient", "recorded_at", "recorded_by"]
    list_filter = ["letter"]
    list_select_related = ["letter", "recorded_by"]
    search_fields = ["recipient", "letter__title"]
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
