"""Deliveries in the staff panel: recorded once, read afterwards, never changed."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from letters.admin.params import GuardedListMixin
from letters.admin.times import local_time
from letters.models import Delivery
from letters.outputs.deliveries import delivery_record


@admin.register(Delivery)
class DeliveryAdmin(GuardedListMixin, admin.ModelAdmin):
    """Staff record a delivery (letter, day, recipient, note); after that it can be read, never changed."""

    list_display = ["letter", "number", "as_of", "recipient", "recorded", "recorded_by"]
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
        "recorded",
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

    @admin.display(description="recorded at", ordering="recorded_at")
    def recorded(self, obj: Delivery) -> str:
        return local_time(obj.recorded_at, obj.letter)

    @admin.display(description="signatories")
    def signatory_count(self, obj: Delivery) -> int:
        return len(obj.entries)

    @admin.display(description="public page and PDF")
    def public_page(self, obj: Delivery):
        pdf_url = reverse("letters:delivery_pdf", args=[obj.letter.slug, obj.number])
        return format_html('<a href="{}">{}</a> · <a href="{}">PDF</a>', obj.get_absolute_url(), obj, pdf_url)

    def save_model(self, request, obj: Delivery, form, change: bool) -> None:
        recorded = delivery_record(
            letter=obj.letter, as_of=obj.as_of, recipient=obj.recipient, note=obj.note, user=request.user
        )
        # The admin goes on with `obj` (its log entry, the redirect): make it the recorded delivery.
        obj.__dict__.update(recorded.__dict__)
