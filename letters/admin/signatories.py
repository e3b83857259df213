"""
Organizations and individuals in the staff panel, with what keeps the list
clean: a "possible duplicates" page (`signatories.identity`) where staff merge
or dismiss each pair, and a "merge selected" action. Either way a merge is
confirmed on a page that says what it will do (`letters.lifecycle.merging.merge_preview`).
They are registered here, not in `signatories`, because a merge moves
signatures, which belong to `letters`.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from letters import lifecycle
from letters.admin.addresses import domain_only, searchable, sees_addresses, shown
from letters.admin.params import GuardedListMixin, database_id
from letters.lifecycle import merging
from letters.lifecycle.entry import unverified_records
from signatories import identity
from signatories.admin_search import BoundedSearchMixin
from signatories.models import DismissedDuplicate, Individual, Organization

# How the pages mark a record nobody vouched for (`lifecycle.unverified_records`).
UNVERIFIED = (
    " — an unverified claim (never confirmed): its name proves nothing, its address is not carried over"
)


class MergeForm(forms.Form):
    """Which records to merge (ids) and which to keep; both come from the page that sends staff here."""

    ids = forms.CharField(widget=forms.HiddenInput)
    keep = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Keep this record")

    def __init__(self, *args, model, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.model = model
        raw = (
            (self.data.get("ids") or self.initial.get("ids") or "")
            if self.is_bound
            else self.initial.get("ids", "")
        )
        pieces = [piece.strip() for piece in str(raw).split(",") if piece.strip()]
        # Ids no database can hold ("²", twenty nines): the view refuses the request (`refused`).
        self.refused = [piece for piece in pieces if database_id(piece) is None]
        pks = [pk for piece in pieces if (pk := database_id(piece)) is not None][:20]
        self.records = list(model.objects.filter(pk__in=pks).order_by("pk"))
        unverified = unverified_records(model, [record.pk for record in self.records])
        self.fields["keep"].choices = [
            (record.pk, f"#{record.pk} {record}" + (UNVERIFIED if record.pk in unverified else ""))
            for record in self.records
        ]

    def clean(self):
        data = super().clean()
        if len(self.records) < 2:
            raise forms.ValidationError("Choose at least two records that still exist.")
        return data

    @property
    def kept(self):
        return next(record for record in self.records if record.pk == self.cleaned_data["keep"])

    @property
    def duplicates(self) -> list:
        return [record for record in self.records if record.pk != self.cleaned_data["keep"]]


class DuplicatesMixin(GuardedListMixin, admin.ModelAdmin):
    """The merge page and action, and the possible-duplicates page, for organizations and individuals."""

    kind: str
    actions = ["merge_selected"]
    change_list_template = "admin/signatories/change_list.html"

    def find_duplicates(self) -> list[identity.DuplicatePair]:
        raise NotImplementedError

    def merge(self, *, keep, duplicates, user) -> merging.MergeOutcome:
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
                "duplicates/", self.admin_site.admin_view(self.duplicates_view), name=f"{prefix}_duplicates"
            ),
            path(
                "duplicates/dismiss/",
                self.admin_site.admin_view(require_POST(self.dismiss_view)),
                name=f"{prefix}_dismiss",
            ),
            path("merge/", self.admin_site.admin_view(self.merge_view), name=f"{prefix}_merge"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "duplicates_url": self._url("duplicates")}
        return super().changelist_view(request, extra_context)

    def _url(self, name: str) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}")

    def merge_url(self, pks, keep=None) -> str:
        query = {"ids": ",".join(str(pk) for pk in pks)} | ({"keep": keep} if keep else {})
        return f"{self._url('merge')}?{urlencode(query)}"

    def duplicates_view(self, request: HttpRequest):
        if not self.has_view_permission(request):
            raise PermissionDenied
        pairs = self.find_duplicates()
        # A side whose every signature is a web claim never confirmed: its name and address prove nothing.
        unverified = lifecycle.unverified_records(
            self.model, {pk for pair in pairs for pk in (pair.first.pk, pair.second.pk)}
        )
        for pair in pairs:
            pair.first_unverified = pair.first.pk in unverified
            pair.second_unverified = pair.second.pk in unverified
            ids = [pair.first.pk, pair.second.pk]
            pair.merge_urls = [(pk, self.merge_url(ids, keep=pk)) for pk in ids]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Possible duplicate {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "pairs": pairs,
            "can_merge": self.has_merge_permission(request),
            "can_dismiss": self.has_change_permission(request),
            "dismiss_url": self._url("dismiss"),
        }
        return TemplateResponse(request, "admin/signatories/duplicates.html", context)

    def dismiss_view(self, request: HttpRequest):
        """One pair of the duplicates page is two different signatories."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        first, second = (database_id(request.POST.get(name, "")) for name in ("first", "second"))
        # Two records of this list, each its own: anything else the page never offered.
        if (
            None in (first, second)
            or first == second
            or self.model.objects.filter(pk__in=[first, second]).count() != 2
        ):
            self.message_user(request, "That pair is not one the page offered.", messages.ERROR)
            return HttpResponseRedirect(self._url("duplicates"))
        identity.duplicate_dismiss(kind=self.kind, first_id=first, second_id=second, user=request.user)
        self.message_user(request, f"#{first} and #{second} will not be proposed again.")
        return HttpResponseRedirect(self._url("duplicates"))

    def merge_view(self, request: HttpRequest):
        """
        Choose the record to keep, read what the merge will do to each letter's
        signatures, then confirm (POST). Nothing changes before the confirmation.
        """
        if not self.has_merge_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else (request.GET if "keep" in request.GET else None)
        form = MergeForm(data, initial={"ids": request.GET.get("ids", "")}, model=self.model)
        if form.refused:
            # The ids come from the list's selection or the duplicates page, never typed: not ours.
            raise BadRequest(f"Not the id of a record: {', '.join(form.refused)[:60]}")
        plans = None
        if form.is_bound and form.is_valid():
            if request.method == "POST":
                try:
                    outcome = self.merge(keep=form.kept, duplicates=form.duplicates, user=request.user)
                except merging.MergeError as error:
                    self.message_user(request, str(error), messages.ERROR)
                else:
                    self._report(request, outcome)
                return HttpResponseRedirect(
                    reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
                )
            plans = merging.merge_preview(keep=form.kept, duplicates=form.duplicates)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Merge {self.opts.verbose_name_plural}",
            "opts": self.opts,
            "form": form,
            "records": form.records,
            "unverified": lifecycle.unverified_records(self.model, [record.pk for record in form.records]),
            "plans": plans,
            "kept": form.kept if plans is not None else None,
            "duplicates": form.duplicates if plans is not None else [],
        }
        return TemplateResponse(request, "admin/signatories/merge.html", context)

    def _report(self, request: HttpRequest, outcome: merging.MergeOutcome) -> None:
        message = f"Merged {outcome.merged} into “{outcome.kept}”: {outcome.moved} signatures now on it"
        if outcome.dropped:
            message += (
                f", of which {outcome.dropped} duplicates set aside (off every list, kept in the history)"
            )
        self.message_user(request, message + ".", messages.SUCCESS)

    @admin.action(description="Merge selected records into one…", permissions=["merge"])
    def merge_selected(self, request: HttpRequest, queryset):
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[:20])
        if len(pks) < 2:
            self.message_user(request, "Select at least two records to merge.", messages.WARNING)
            return None
        return HttpResponseRedirect(self.merge_url(pks))


@admin.register(Organization)
class OrganizationAdmin(DuplicatesMixin, BoundedSearchMixin, admin.ModelAdmin):
    kind = DismissedDuplicate.Kind.ORGANIZATION
    list_display = ["name", "acronym", "country", "website", "updated_at"]
    # No country filter: it would list every country on the page; the search finds them.
    search_fields = ["name", "acronym", "sort_name", "contact_name", "contact_email"]
    ordering = ["name"]

    def get_search_fields(self, request: HttpRequest):
        return searchable(request, self.search_fields)

    fieldsets = [
        (None, {"fields": ["name", "acronym", "country", "website", "sort_name"]}),
        ("Private", {"fields": ["contact_name", "contact_email", "notes"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if sees_addresses(request):
            return self.fieldsets
        # A Moderator reads the contact's address as its domain only (letters/admin/addresses.py).
        return [
            (
                title,
                {**options, "fields": shown(request, options["fields"], {"contact_email": "contact_domain"})},
            )
            for title, options in self.fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            *(() if sees_addresses(request) else ["contact_domain"]),
        ]

    @admin.display(description="contact e-mail at")
    def contact_domain(self, organization: Organization) -> str:
        return domain_only(organization.contact_email) or "—"

    def find_duplicates(self) -> list[identity.DuplicatePair]:
        return identity.organization_duplicates()

    def merge(self, *, keep, duplicates, user) -> merging.MergeOutcome:
        return merging.organization_merge(keep=keep, duplicates=duplicates, user=user)


@admin.register(Individual)
class IndividualAdmin(DuplicatesMixin, BoundedSearchMixin, admin.ModelAdmin):
    kind = DismissedDuplicate.Kind.INDIVIDUAL
    list_display = ["name", "sort_name", "title", "country", "email", "updated_at"]
    # No country filter: it would list every country on the page; the search finds them.
    search_fields = ["name", "sort_name", "title", "email", "canonical_email"]
    ordering = ["name"]

    def get_search_fields(self, request: HttpRequest):
        return searchable(request, self.search_fields)

    fieldsets = [
        (None, {"fields": ["name", "family_name", "sort_name", "title", "country"]}),
        ("Private", {"fields": ["email", "notes"]}),
    ]

    def get_list_display(self, request: HttpRequest):
        return shown(request, self.list_display, {"email": "email_domain"})

    def get_fieldsets(self, request: HttpRequest, obj=None):
        if sees_addresses(request):
            return self.fieldsets
        # A Moderator reads the address as its domain only (letters/admin/addresses.py).
        return [
            (title, {**options, "fields": shown(request, options["fields"], {"email": "email_domain"})})
            for title, options in self.fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            *(() if sees_addresses(request) else ["email_domain"]),
        ]

    @admin.display(description="e-mail at")
    def email_domain(self, individual: Individual) -> str:
        return domain_only(individual.email) or "—"

    def find_duplicates(self) -> list[identity.DuplicatePair]:
        return identity.individual_duplicates()

    def merge(self, *, keep, duplicates, user) -> merging.MergeOutcome:
        return merging.individual_merge(keep=keep, duplicates=duplicates, user=user)
