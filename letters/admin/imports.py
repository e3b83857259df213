"""
Spreadsheets in the staff panel (django-import-export): importing the
signatures of one letter, and the staff export with private fields. The rows
themselves are read and written by `letters.resources`.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from import_export.forms import ConfirmImportForm, ImportForm

from ..models import Letter
from ..resources import IMPORT_COLUMNS, SignatureExportResource, SignatureImportResource


class SignatureImportForm(ImportForm):
    letter = forms.ModelChoiceField(
        queryset=Letter.objects.order_by("title"),
        help_text="Every row of the file becomes an approved signature of this letter.",
    )
    field_order = ["letter", "resource", "import_file", "format"]


class SignatureConfirmImportForm(ConfirmImportForm):
    letter = forms.ModelChoiceField(queryset=Letter.objects.all(), widget=forms.HiddenInput)


class SignatureImportExportMixin(ImportExportMixin):
    """Import and export of the signature admin."""

    import_template_name = "admin/letters/signature/import.html"
    import_form_class = SignatureImportForm
    confirm_form_class = SignatureConfirmImportForm
    formats = [CSV, XLSX]

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
