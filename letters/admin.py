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
    list_display = ["letter", "number", "as_of", "recipient", "recorded_at"]
    list_filter = ["letter"]
    readonly_fields = ["number", "recorded_at", "recorded_by", "pdf_sha256"]
