"""
Organizations and individuals in the staff panel, with what keeps the list
clean: a "possible duplicates" page (`signatories.dedup`) where staff merge or
dismiss each pair, and a "merge selected" action (`signatories.services`).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from . import dedup, services
from .admin_search import BoundedSearchMixin
from .models import DismissedDuplicate, Individual, Organization


class MergeForm(forms.Form):
    keep = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Keep this record")


class DuplicatesMixin(admin.ModelAdmin):
    """The merge action and the possible-duplicates page, for organizations and individuals."""

    kind: str
    actions = ["merge_selected"]
    change_list_template = "admin/signatories/change_list.html"

    def find_duplicates(self) -> list[dedup.DuplicatePair]:
        raise NotImplementedError

    def merge(self, *, keep, duplicates, user) -> services.MergeOutcome:
        raise NotImplementedError

    def has_merge_permission(self, request: HttpRequest) -> bool:
        # A merge deletes the duplicate records (Moderators may not delete).
        return self.has_change_permission(request) and self.has_delete_permission(request)

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        # Organizations and individuals with signatures cannot be deleted: merge them instead.
        actions.pop("delete_selected", None)
        return actions

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "duplicates/",
                self.admin_site.admin_view(self.duplicates_view),
                name=f"{prefix}_duplicates",
            ),
            path(
                "duplicates/resolve/",
                self.admin_site.admin_view(require_POST(self.resolve_view)),
                name=f"{prefix}_resolve",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "duplicates_url": self._url("duplicates")}
        return super().changelist_view(request, extra_context)

    def _url(self, name: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}")

    def duplicates_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Possible duplicate {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "pairs": self.find_duplicates(),
            "can_merge": self.has_merge_permission(request),
            "can_dismiss": self.has_change_permission(request),
            "resolve_url": self._url("resolve"),
        }
        return TemplateResponse(request, "admin/signatories/duplicates.html", context)

    def resolve_view(self, request: HttpRequest):
        """One pair of the duplicates page: merge it either way, or dismiss it."""
        try:
            first, second = (int(request.POST[name]) for name in ("first", "second"))
        except (KeyError, ValueError):
            self.message_user(request, "That pair is not one the page offered.", messages.ERROR)
            return HttpResponseRedirect(self._url("duplicates"))
        if "dismiss" in request.POST:
            if not self.has_change_permission(request):
                raise PermissionDenied
            dedup.duplicate_dismiss(kind=self.kind, first_id=first, second_id=second, user=request.user)
            self.message_user(request, f"#{first} and #{second} will not be proposed again.")
        else:
            if not self.has_merge_permission(request):
                raise PermissionDenied
            keep_id = int(request.POST.get("keep", first))
            records = self.model.objects.in_bulk([first, second])
            if keep_id not in (first, second) or len(records) != 2:
                self.message_user(request, "One of the records no longer exists.", messages.ERROR)
                return HttpResponseRedirect(self._url("duplicates"))
            other = second if keep_id == first else first
            self._merge_and_report(request, records[keep_id], [records[other]])
        return HttpResponseRedirect(self._url("duplicates"))

    def _merge_and_report(self, request: HttpRequest, keep, duplicates) -> None:
        try:
            outcome = self.merge(keep=keep, duplicates=duplicates, user=request.user)
        except services.MergeError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        message = f"Merged {outcome.merged} into “{outcome.kept}”: {outcome.moved} signatures moved"
        if outcome.dropped:
            message += (
                f", {outcome.dropped} removed because the same letter had an earlier signature "
                "(their details are in the history)"
            )
        self.message_user(request, message + ".", messages.SUCCESS)

    @admin.action(description="Merge selected records into one…", permissions=["merge"])
    def merge_selected(self, request: HttpRequest, queryset):
        records = list(queryset.order_by("pk")[:20])
        form = MergeForm(request.POST if "apply" in request.POST else None)
        form.fields["keep"].choices = [(record.pk, f"#{record.pk} {record}") for record in records]
        if len(records) < 2:
            self.message_user(request, "Select at least two records to merge.", messages.WARNING)
            return None
        if form.is_bound and form.is_valid():
            keep = next(record for record in records if record.pk == form.cleaned_data["keep"])
            self._merge_and_report(request, keep, [record for record in records if record != keep])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Merge {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "form": form,
            "records": records,
            "selected": [record.pk for record in records],
        }
        return TemplateResponse(request, "admin/signatories/merge.html", context)


@admin.register(Organization)
class OrganizationAdmin(DuplicatesMixin, BoundedSearchMixin, admin.ModelAdmin):
    kind = DismissedDuplicate.Kind.ORGANIZATION
    list_display = ["name", "acronym", "country", "website", "updated_at"]
    list_filter = ["country"]
    search_fields = ["name", "acronym", "sort_name", "contact_name", "contact_email"]
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "acronym", "country", "website", "sort_name"]}),
        ("Private", {"fields": ["contact_name", "contact_email", "notes"]}),
    ]

    def find_duplicates(self) -> list[dedup.DuplicatePair]:
        return dedup.organization_duplicates()

    def merge(self, *, keep, duplicates, user) -> services.MergeOutcome:
        return services.organization_merge(keep=keep, duplicates=duplicates, user=user)


@admin.register(Individual)
class IndividualAdmin(DuplicatesMixin, BoundedSearchMixin, admin.ModelAdmin):
    kind = DismissedDuplicate.Kind.INDIVIDUAL
    list_display = ["name", "sort_name", "title", "country", "email", "updated_at"]
    list_filter = ["country"]
    search_fields = ["name", "sort_name", "title", "email", "canonical_email"]
    ordering = ["name"]
    fieldsets = [
        (None, {"fields": ["name", "sort_name", "title", "country"]}),
        ("Private", {"fields": ["email", "notes"]}),
    ]

    def find_duplicates(self) -> list[dedup.DuplicatePair]:
        return dedup.individual_duplicates()

    def merge(self, *, keep, duplicates, user) -> services.MergeOutcome:
        return services.individual_merge(keep=keep, duplicates=duplicates, user=user)
