"""Deliveries in the staff panel: recorded once, read afterwards, never changed."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from letters.admin.params import GuardedListMixin
from letters.admin.times import local_time
from letters.models import Delivery
from letters.outputs.deliveries import delivery_record
from letters.rosters import Roster, format_day


class DeliveryAddForm(forms.ModelForm):
    """
    A delivery is permanent and public: once the letter, the day and the
    recipient are valid, the form says what recording does (how many names
    are frozen, as of which day, the recipient on a public page, for good) and
    records only once "I understand" is ticked.
    """

    confirmed = forms.BooleanField(
        required=False,
        label=_("I understand: this list and its recipient are published, never to be changed or deleted"),
    )

    class Meta:
        model = Delivery
        fields = ["letter", "as_of", "recipient", "note"]

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors or self.cleaned_data.get("confirmed"):
            return
        letter, day = self.cleaned_data["letter"], self.cleaned_data["as_of"]
        names = Roster(letter, day).counts["total"]
        self.add_error(
            "confirmed",
            ngettext(
                "Recording freezes the list of {n} name as of {day} for good. “{recipient}” will be shown "
                "as its recipient on a public page with the list. A delivery cannot be changed or deleted "
                "afterwards. Check the list, then tick the box below to record it.",
                "Recording freezes the list of {n} names as of {day} for good. “{recipient}” will be shown "
                "as its recipient on a public page with the list. A delivery cannot be changed or deleted "
                "afterwards. Check the list, then tick the box below to record it.",
                names,
            ).format(n=names, day=format_day(day, "en-gb"), recipient=self.cleaned_data["recipient"]),
        )


@admin.register(Delivery)
class DeliveryAdmin(GuardedListMixin, admin.ModelAdmin):
    """Staff record a delivery (letter, day, recipient, note); after that it can be read, never changed."""

    list_display = ["letter", "number", "as_of", "recipient", "recorded", "recorded_by"]
    list_filter = ["letter"]
    list_select_related = ["letter", "recorded_by"]
    date_hierarchy = "as_of"
    add_fields = ["letter", "as_of", "recipient", "note", "confirmed"]
    recorded_fields = [
        "letter",
        "number",
        "as_of",
        "recipient",
        "note",
        "recorded_by",
        "recorded",
        "signatory_count",
        "pdf_fingerprint",
        "public_page",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DeliveryAddForm
        return super().get_form(request, obj, change=change, **kwargs)

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

    @admin.display(description="PDF fingerprint (SHA-256)")
    def pdf_fingerprint(self, obj: Delivery) -> str:
        return obj.pdf_sha256

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
