"""
Signatures in the staff panel. The list opens on the moderation queue:
confirmed signatures waiting for approval, oldest first, with the warnings of
the page's rows (`letters.lifecycle.moderation.with_warnings`, in one more query). Every change of a
signature is a `letters.lifecycle` transition, offered as an action on the
list and on the change form; the change form of an existing signature shows
what the lifecycle decides read-only. Staff may still add a signature by hand
(a staff-entered signature, approved and dated).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.text import Truncator

from letters import lifecycle
from letters.admin.addresses import domain_only, searchable, sees_addresses, shown
from letters.admin.imports import ImportFilter, SignatureImportExportMixin
from letters.admin.letters import signatures_url
from letters.admin.params import GuardedChangeList, GuardedListMixin, database_id
from letters.admin.times import FORMAT, LetterZoneAdminMixin, MomentField, local_time
from letters.lifecycle import moderation
from letters.lifecycle.moderation import BUCKETS, bucket_q
from letters.models import Correction, Letter, Signature
from letters.signing import address_change
from letters.signing.notices import approval_notice_enqueue, has_address
from letters.signing.services import confirmation_resend
from signatories import identity
from signatories.admin_search import BoundedSearchMixin
from signatories.normalize import email_domain, sort_name_doubtful


class QueueFilter(admin.SimpleListFilter):
    """
    The signature list's main filter. Without a choice it shows the queue —
    confirmed signatures awaiting approval — unless staff are searching, when
    they want to find a signature whatever its state.
    """

    title = "status"
    parameter_name = "queue"
    default = "awaiting"

    def __init__(self, request, params, model, model_admin):
        self.searching = bool(request.GET.get("q"))
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [(key, label.capitalize()) for key, (label, _) in BUCKETS.items()] + [("all", "All")]

    def effective_value(self) -> str:
        value = self.value()
        if value in BUCKETS or value == "all":
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
        value = self.effective_value()
        return queryset if value == "all" else queryset.filter(bucket_q(value))


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


# Transitions are offered on the list and on a signature's own page.
BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 80}))


class AuthorizationForm(forms.Form):
    """Who authorized an organization's signature, as staff found out (letters.lifecycle.signature_verify)."""

    name = forms.CharField(label="Who authorized it", max_length=200, help_text="“Dr Amina Diallo”")
    role = forms.CharField(label="Their role", max_length=200, help_text="“Executive director”")
    how = forms.CharField(
        label="How you know",
        max_length=500,
        help_text="“Telephone call to the office number on the website, 3 October”",
        widget=forms.TextInput(attrs={"size": 80}),
    )


class ErasureForm(forms.Form):
    confirm = forms.BooleanField(
        label="The signers asked in writing to be removed from every list. Erase for good: "
        "their names leave every list of every day and their private data is deleted.",
    )


class SignatureAddForm(forms.ModelForm):
    """A signature staff enter by hand: the lifecycle says whether it may be listed, next to the field."""

    class Meta:
        model = Signature
        fields = ["letter", "individual", "organization", "signed_at", "public_consent", "notes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # No letter is chosen yet, so no zone to name beside the input: the time is read on the
        # clock of the letter chosen (`clean`), as "as of a day" counts it.
        field = self.fields["signed_at"]
        field.widget = forms.DateTimeInput(
            attrs={"placeholder": "21 Sep 2023, 14:05", "size": 20}, format=FORMAT
        )
        field.help_text = "In the chosen letter’s time zone, e.g. “21 Sep 2023, 14:05”."

    def clean(self):
        data = super().clean()
        letter, signed_at = data.get("letter"), data.get("signed_at")
        if letter and signed_at:
            # The field read the typed time on the panel's clock: the same time on the letter's.
            typed = timezone.localtime(signed_at).replace(tzinfo=None)
            signed_at = data["signed_at"] = typed.replace(tzinfo=letter.tzinfo)
        signatory = data.get("individual") or data.get("organization")
        if data.get("individual") and data.get("organization"):
            raise forms.ValidationError("Choose an individual or an organization, not both.")
        if letter and signatory and signed_at:
            consent = bool(data.get("public_consent"))
            for field, message in lifecycle.entry_errors(
                letter, signatory, signed_at, public_consent=consent
            ).items():
                self.add_error(field, message)
        return data


class CorrectionInline(admin.TabularInline):
    """The corrections the signer proposed, newest first (approved or rejected in the Corrections list)."""

    model = Correction
    fields = [
        "status",
        "printed",
        "with_signature",
        "submitted_at",
        "confirmed_at",
        "decided_at",
        "decided_by",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-submitted_at"]
    verbose_name_plural = "corrections proposed by the signer"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class InvalidationForm(forms.Form):
    letter = forms.ModelChoiceField(queryset=Letter.objects.order_by("title"))
    ip_hash = forms.CharField(
        required=False, max_length=64, label="IP hash", help_text="As shown on a signature."
    )
    email_domain = forms.CharField(
        required=False, max_length=200, label="E-mail domain", help_text="e.g. example.com"
    )
    submitted_from = MomentField(
        required=False,
        widget=forms.DateTimeInput(attrs={"placeholder": "21 Sep 2023, 14:05"}, format=FORMAT),
        help_text="In the letter’s time zone, like every time in this panel.",
    )
    submitted_until = MomentField(
        required=False,
        widget=forms.DateTimeInput(attrs={"placeholder": "21 Sep 2023, 18:00"}, format=FORMAT),
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
    # Which signatures the preview showed (`moderation.matches_digest`), not just how many.
    expected_set = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean_email_domain(self) -> str:
        domain = self.cleaned_data["email_domain"].strip().lstrip("@").lower()
        if domain and ("@" in domain or " " in domain or "." not in domain):
            raise forms.ValidationError("Give a domain such as example.com.")
        return domain

    def clean(self):
        data = super().clean()
        if letter := data.get("letter"):
            for name in ("submitted_from", "submitted_until"):
                if data.get(name):
                    # Staff typed a time on the letter's clock, not the server's.
                    data[name] = timezone.make_naive(data[name]).replace(tzinfo=letter.tzinfo)
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


class QueueChangeList(GuardedChangeList):
    """
    The signature list, then the warnings of the page's signatures
    (`moderation.with_warnings`) and the near-spelling check of its
    organizations: a fixed number of queries, each as long as the page. (Asked
    of the sorted list itself, the database worked out every warning of every
    signature of the letter before it sorted: 11 s for 10,000 signatures.)
    """

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        page = {signature.pk: signature for signature in self.result_list}
        fields = moderation.WARNINGS
        for pk, *values in moderation.with_warnings(Signature.objects.filter(pk__in=page)).values_list(
            "pk", *fields
        ):
            page[pk].__dict__.update(zip(fields, values, strict=True))
        organizations = [
            signature.organization for signature in self.result_list if signature.organization_id
        ]
        close = identity.close_organizations(organizations)
        for signature in self.result_list:
            signature.close_organization = close.get(signature.organization_id)


@admin.register(Signature)
class SignatureAdmin(LetterZoneAdminMixin, SignatureImportExportMixin, BoundedSearchMixin, admin.ModelAdmin):
    # Six columns that fit a 1280 px screen beside the filters: who (with what
    # is printed under the name), how to reach them, which letter, the state,
    # when (in the letter's zone) and what staff should look at.
    list_display = ["signatory", "email", "letter_title", "status_label", "when_submitted", "warnings"]
    list_display_links = None  # the signatory's name links to the signature; the line under it does not

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # The page says which part of the queue, and of which letter, it shows.
        queue = request.GET.get("queue") or ("all" if request.GET.get("q") else QueueFilter.default)
        part = BUCKETS[queue][0] if queue in BUCKETS else "all"
        title = f"Signatures: {part}"
        raw = request.GET.get("letter")
        pk = database_id(raw) if raw is not None else None
        if raw is not None and pk is None:
            # As the admin answers any lookup it cannot use.
            return HttpResponseRedirect(f"{request.path}?e=1")
        if pk is not None and (letter := Letter.objects.filter(pk=pk).first()):
            title += f" — “{Truncator(letter.title).chars(60)}”"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    # A Moderator reads addresses as their domain only (letters/admin/addresses.py).
    DOMAIN_ONLY = {"email": "email_domain", "contact_email": "contact_domain", "claim": "claim_domain"}

    def get_list_display(self, request: HttpRequest):
        columns = shown(request, self.list_display, self.DOMAIN_ONLY)
        # The queue of one letter (the dashboard's links) needs no letter column.
        if request.GET.get("letter"):
            return [name for name in columns if name != "letter_title"]
        return columns

    list_filter = [
        QueueFilter,
        "letter",
        KindFilter,
        "source",
        "submitted_at",
        "signed_at",
        ImportFilter,
        "unnamed",
    ]
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

    def get_search_fields(self, request: HttpRequest):
        return searchable(request, self.search_fields)

    raw_id_fields = ["individual", "organization"]
    # What the lifecycle decides: shown, changed only through the actions.
    lifecycle_fields = [
        "letter",
        "individual",
        "organization",
        "status",
        "source",
        "submitted_at",
        "signed_at",
        "confirmed_at",
        "approved_at",
        "approved_by",
        "rejected_at",
        "rejection_reason",
        "withdrawn_at",
        "withdrawal_reason",
        "erased_at",
        "merged_into",
        "unnamed",
        "suspended_at",
        "suspended_by",
        "suspension_reason",
        "verification",
        "authorized_by_name",
        "authorized_by_role",
        "authorized_how",
        "verified_at",
        "verified_by",
        "language",
        "claim",
        "ip_hash",
        "updated_at",
    ]
    # What staff may edit on a signature that exists: `lifecycle.staff_editable_fields`.
    editable_fields = lifecycle.STAFF_EDITABLE_FIELDS
    # A signature staff enter by hand (letter, signatory, day): approved at once.
    add_fields = ["letter", "individual", "organization", "signed_at", "public_consent", "notes"]
    actions = [
        "approve",
        "reject",
        "resend_confirmation",
        "mark_withdrawn",
        "erase",
        "suspend",
        "reinstate",
        "record_authorization",
    ]
    inlines = []
    change_list_template = "admin/letters/signature/change_list.html"

    # -- the list ------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs):
        return QueueChangeList

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        # Signatures are rejected or withdrawn, never deleted by an ordinary action.
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="signatory", ordering="individual__name")
    def signatory(self, signature: Signature):
        signatory = signature.signatory
        if signature.organization_id:
            name, details = signatory.display_name, ["organization", f"signed by {signature.signer_name}"]
        else:
            name, details = signatory.name, ["individual", signatory.title]
            if not signatory.sort_name and (
                doubt := sort_name_doubtful(signatory.name, signatory.family_name)
            ):
                details.append(f"sorts as “{signatory.effective_sort_name}”, check: {doubt}")
        if signatory.country:
            details.append(signatory.country.name)
        return format_html(
            '<a href="{}">{}</a><span class="secondary">{}</span>',
            reverse("admin:letters_signature_change", args=[signature.pk]),
            name,
            " · ".join(str(d) for d in details if d),
        )

    @admin.display(description="e-mail", ordering="contact_email")
    def email(self, signature: Signature) -> str:
        return signature.contact_email or (signature.individual.email if signature.individual_id else "")

    @admin.display(description="e-mail at")
    def email_domain(self, signature: Signature) -> str:
        return domain_only(self.email(signature))

    @admin.display(description="contact e-mail at")
    def contact_domain(self, signature: Signature) -> str:
        return domain_only(signature.contact_email) or "—"

    @admin.display(description="claim on the organization")
    def claim_domain(self, signature: Signature) -> str:
        if not signature.organization_id or not signature.contact_email:
            return "—"
        claim = identity.claim_address(signature.contact_email, signature.organization.website)
        return f"{domain_only(signature.contact_email)}: {claim}"

    @admin.display(description="letter", ordering="letter__title")
    def letter_title(self, signature: Signature) -> str:
        return Truncator(signature.letter.title).chars(32)

    @admin.display(description="status", ordering="status")
    def status_label(self, signature: Signature):
        label = {
            Signature.Status.PENDING: "unconfirmed",
            Signature.Status.CONFIRMED: "awaiting approval",
            Signature.Status.APPROVED: "approved",
            Signature.Status.REJECTED: "rejected",
        }[signature.status]
        if signature.withdrawn_at:
            label += ", withdrawn"
        if signature.unnamed:
            label += ", unnamed"  # counted on the public list, never named there
        if signature.suspended_at:
            label += ", suspended"  # off every day's list while a dispute is looked into
        if signature.organization_id:
            # Who vouches for it (docs/design.md, "Who vouches for a name").
            label += f", verified ({signature.verification})" if signature.verification else ", not verified"
        return label

    @admin.display(description="submitted", ordering="submitted_at")
    def when_submitted(self, signature: Signature):
        submitted = local_time(signature.submitted_at, signature.letter)
        if not signature.confirmed_at:
            return submitted
        confirmed = local_time(signature.confirmed_at, signature.letter)
        return format_html('{}<span class="secondary">confirmed {}</span>', submitted, confirmed)

    @admin.display(description="warnings")
    def warnings(self, signature: Signature):
        found = []
        if getattr(signature, "warn_email", False):
            found.append(("", "same e-mail as another signature of this letter"))
        if getattr(signature, "warn_namesake", False):
            found.append(("", "someone of the same name has signed this letter"))
        if getattr(signature, "warn_organization", False) or getattr(signature, "close_organization", None):
            duplicates = reverse("admin:signatories_organization_duplicates")
            found.append((duplicates, "organization name close to another"))
        if getattr(signature, "warn_listed", False):
            found.append(("", "another claim on this organization is already listed"))
        if signature.organization_id and signature.contact_email:
            claim = identity.claim_address(signature.contact_email, signature.organization.website)
            if claim != identity.AT_WEBSITE:
                found.append(("", f"signed from {claim}"))
        if getattr(signature, "warn_correction", False):
            corrections = (
                reverse("admin:letters_correction_changelist") + "?" + urlencode({"signature": signature.pk})
            )
            found.append((corrections, "a correction of the entry awaits approval"))
        if signature.notes:
            # The signup form notes what it noticed (a near namesake, a different spelling on file).
            found.append(("", Truncator(signature.notes).chars(160)))
        if getattr(signature, "warn_ip", 0) >= moderation.IP_BURST_SIZE:
            invalidate = (
                reverse("admin:letters_signature_invalidate")
                + "?"
                + urlencode({"letter": signature.letter_id, "ip_hash": signature.ip_hash})
            )
            found.append((invalidate, f"{signature.warn_ip} signatures from one network within an hour"))
        return format_html_join(
            "",
            '<div class="warning">⚠ {}</div>',
            ((format_html('<a href="{}">{}</a>', url, text) if url else text,) for url, text in found),
        )

    # -- one signature -------------------------------------------------------

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return self.add_fields
        return shown(request, [*self.lifecycle_fields, *self.editable_fields], self.DOMAIN_ONLY)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return []
        editable = lifecycle.staff_editable_fields(obj)
        if not sees_addresses(request):
            # Moderators change no address: a new one would receive the signer's links.
            editable = [name for name in editable if name != "contact_email"]
        fields = [*self.lifecycle_fields, *(name for name in self.editable_fields if name not in editable)]
        return shown(request, fields, self.DOMAIN_ONLY)

    def get_inlines(self, request: HttpRequest, obj=None):
        return [CorrectionInline] if obj is not None else []

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SignatureAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.base_fields["signed_at"].required = True
            form.base_fields["signed_at"].help_text = "When the signatory signed (by e-mail, on paper…)."
        return form

    @admin.display(description="claim on the organization")
    def claim(self, signature: Signature) -> str:
        """For a signature of an organization: how far the address speaks for it."""
        if not signature.organization_id or not signature.contact_email:
            return "—"
        claim = identity.claim_address(signature.contact_email, signature.organization.website)
        return f"{signature.contact_email}: {claim}"

    def get_changeform_initial_data(self, request: HttpRequest):
        return {"public_consent": True, **super().get_changeform_initial_data(request)}

    def save_model(self, request: HttpRequest, obj: Signature, form, change: bool) -> None:
        if change:
            # Only the editable fields reach the form: nothing of the lifecycle changes here.
            new_address = obj.contact_email
            if "contact_email" in form.changed_data and new_address:
                # A new address proves itself before it receives anything (letters/signing/address_change.py).
                obj.contact_email = form.initial.get("contact_email", "")
            super().save_model(request, obj, form, change)
            if "contact_email" in form.changed_data and new_address:
                address_change.address_change_request(signature=obj, address=new_address, user=request.user)
                self.message_user(
                    request,
                    "The new address was sent a link: it becomes the contact address once its owner "
                    "confirms it. Until then every e-mail goes to the current one.",
                    messages.WARNING,
                )
            return
        signatory = obj.individual or obj.organization
        created = lifecycle.signature_enter(
            letter=obj.letter,
            signatory=signatory,
            signed_at=obj.signed_at,
            user=request.user,
            public_consent=obj.public_consent,
            notes=obj.notes,
        )
        # The admin goes on with `obj` (its log entry, the redirect): make it the stored signature.
        obj.__dict__.update(created.__dict__)

    # -- actions: the lifecycle's transitions, on the list and the change form --

    def _report(self, request: HttpRequest, outcome: lifecycle.Outcome, done: str) -> None:
        message = f"{outcome.changed} signature{'s' if outcome.changed != 1 else ''} {done}."
        if outcome.skipped:
            message += f" {outcome.skipped} left as they were (the action does not apply to them)."
        self.message_user(request, message, messages.SUCCESS if outcome.changed else messages.WARNING)
        for note in outcome.notes:
            self.message_user(request, note, messages.WARNING)

    @admin.action(description="Approve selected signatures", permissions=["change"], location=BOTH)
    def approve(self, request: HttpRequest, queryset):
        waiting = list(queryset.exclude(status=Signature.Status.APPROVED).values_list("pk", flat=True))
        outcome = lifecycle.signatures_approve(signatures=queryset, user=request.user)
        # "You are on the list", to each signer just approved who gave an address.
        approved = Signature.objects.select_related("individual", "organization").filter(
            pk__in=waiting, status=Signature.Status.APPROVED, erased_at=None
        )
        approval_notice_enqueue([signature.pk for signature in approved if has_address(signature)])
        self._report(request, outcome, "approved")

    @admin.action(
        description="Reject selected signatures (with a reason)…", permissions=["change"], location=BOTH
    )
    def reject(self, request: HttpRequest, queryset):
        return self._confirmed_action(request, queryset, "reject")

    @admin.action(description="Mark selected signatures withdrawn…", permissions=["change"], location=BOTH)
    def mark_withdrawn(self, request: HttpRequest, queryset):
        return self._confirmed_action(request, queryset, "mark_withdrawn")

    @admin.action(
        description="Erase selected signatures at their signers’ written request…",
        # It cannot be undone: Organizers, who may delete, not Moderators.
        permissions=["delete"],
        location=BOTH,
    )
    def erase(self, request: HttpRequest, queryset):
        return self._confirmed_action(request, queryset, "erase")

    @admin.action(
        description="Suspend selected entries while a dispute is checked (off every day’s list)…",
        permissions=["change"],
        location=BOTH,
    )
    def suspend(self, request: HttpRequest, queryset):
        return self._confirmed_action(request, queryset, "suspend")

    @admin.action(description="Reinstate selected suspended entries", permissions=["change"], location=BOTH)
    def reinstate(self, request: HttpRequest, queryset):
        rows = list(queryset.filter(suspended_at__isnull=False))
        for signature in rows:
            lifecycle.signature_reinstate(signature=signature, user=request.user)
        skipped = queryset.count() - len(rows)
        self._report(request, lifecycle.Outcome(changed=len(rows), skipped=skipped), "reinstated")

    @admin.action(
        description="Record who authorized this signature (organizations)…",
        permissions=["change"],
        location=BOTH,
    )
    def record_authorization(self, request: HttpRequest, queryset):
        form = AuthorizationForm(request.POST if "apply" in request.POST else None)
        organizations = queryset.filter(organization__isnull=False)
        if form.is_bound and form.is_valid():
            rows = list(organizations)
            for signature in rows:
                lifecycle.signature_verify(signature=signature, user=request.user, **form.cleaned_data)
            outcome = lifecycle.Outcome(changed=len(rows), skipped=queryset.count() - len(rows))
            self._report(request, outcome, "verified by staff")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Record who authorized the signature",
            "opts": self.opts,
            "form": form,
            "signatures": organizations.select_related("organization", "letter")[:200],
            "count": organizations.count(),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "post_url": request.get_full_path(),
            "action_field": self._action_field(request),
        }
        return TemplateResponse(request, "admin/letters/signature/authorization.html", context)

    def _confirmed_action(self, request: HttpRequest, queryset, action: str):
        """Ask for the reason (or the confirmation) on a page of its own, then act on the same selection."""
        form_class = ErasureForm if action == "erase" else ReasonForm
        form = form_class(request.POST if "apply" in request.POST else None)
        if action == "mark_withdrawn":
            form.fields["reason"].required = False
        if form.is_bound and form.is_valid():
            try:
                if action == "reject":
                    outcome = lifecycle.signatures_reject(
                        signatures=queryset, user=request.user, reason=form.cleaned_data["reason"]
                    )
                    self._report(request, outcome, "rejected")
                elif action == "suspend":
                    rows = list(queryset.filter(suspended_at__isnull=True, erased_at__isnull=True))
                    for signature in rows:
                        lifecycle.signature_suspend(
                            signature=signature, user=request.user, reason=form.cleaned_data["reason"]
                        )
                    outcome = lifecycle.Outcome(changed=len(rows), skipped=queryset.count() - len(rows))
                    self._report(request, outcome, "suspended: off every day’s list until reinstated")
                elif action == "mark_withdrawn":
                    outcome = lifecycle.signatures_withdraw(
                        signatures=queryset, user=request.user, reason=form.cleaned_data["reason"]
                    )
                    self._report(request, outcome, "marked withdrawn")
                else:
                    outcome = lifecycle.signatures_erase(signatures=queryset, user=request.user)
                    self._report(request, outcome, "erased")
            except lifecycle.TransitionError as error:
                self.message_user(request, str(error), messages.ERROR)
            return None
        titles = {
            "reject": "Reject signatures",
            "mark_withdrawn": "Mark signatures withdrawn",
            "erase": "Erase signatures",
            "suspend": "Suspend entries",
        }
        context = {
            **self.admin_site.each_context(request),
            "title": titles[action],
            "opts": self.opts,
            "form": form,
            "action": action,
            "signatures": queryset.select_related("individual", "organization", "letter")[:200],
            "count": queryset.count(),
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            # Posted back where the selection was made: the list with its filters (which
            # "select all" stands for), or the signature's own page, whatever its status.
            "post_url": request.get_full_path(),
            "action_field": self._action_field(request),
        }
        return TemplateResponse(request, "admin/letters/signature/action_reason.html", context)

    @staticmethod
    def _action_field(request: HttpRequest) -> str:
        """The name under which the page the action was chosen on posts it."""
        on_page = f"{ActionLocation.CHANGE_FORM.value}-action"
        return on_page if on_page in request.POST else "action"

    @admin.action(description="Resend the confirmation e-mail", permissions=["change"], location=BOTH)
    def resend_confirmation(self, request: HttpRequest, queryset):
        sent = []
        for signature in queryset.select_related("letter", "individual", "organization"):
            if confirmation_resend(signature=signature):
                sent.append(signature)
        if sent:
            LogEntry.objects.log_actions(request.user.pk, sent, CHANGE, "Sent a new confirmation link.")
        skipped = queryset.count() - len(sent)
        self._report(request, lifecycle.Outcome(changed=len(sent), skipped=skipped), "sent a new link")

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
            raise PermissionDenied
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
                form.data["expected_set"] = moderation.matches_digest(matches)
        context = {
            **self.admin_site.each_context(request),
            "title": "Reject signatures in bulk",
            "opts": self.opts,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/letters/signature/invalidate.html", context)

    def _invalidate(self, request, form: InvalidationForm, criteria) -> lifecycle.Outcome | None:
        reason = form.cleaned_data["reason"]
        expected = form.cleaned_data["expected_count"]
        if not lifecycle.clean_reason(reason):
            form.add_error("reason", "Give a reason for the rejection.")
        elif expected is None:
            form.add_error(None, "Look at the matching signatures before rejecting them.")
        else:
            try:
                return moderation.signatures_invalidate(
                    criteria=criteria,
                    reason=reason,
                    user=request.user,
                    expected_count=expected,
                    expected_set=form.cleaned_data["expected_set"],
                )
            except lifecycle.TransitionError as error:
                form.add_error(None, str(error))
        return None


@admin.register(Correction)
class CorrectionAdmin(GuardedListMixin, admin.ModelAdmin):
    """Corrections signers proposed to their printed entries: staff approve or reject the confirmed ones."""

    list_display = [
        "printed",
        "signature_link",
        "current",
        "claim_status",
        "claim_domain",
        "status",
        "submitted_at",
        "confirmed_at",
    ]
    list_filter = ["status"]
    list_select_related = ["signature__letter", "signature__individual", "signature__organization"]
    ordering = ["-submitted_at"]
    actions = ["approve", "reject"]

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if signature := request.GET.get("signature", ""):
            pk = database_id(signature)
            queryset = queryset.filter(signature=pk) if pk is not None else queryset.none()
        return queryset

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        return lookup == "signature" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    # Corrections are part of a signature: whoever may see or change signatures may see or decide them.
    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm("letters.view_signature")

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Read-only pages; the actions below need the right to change signatures.
        return obj is None and request.user.has_perm("letters.change_signature")

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="signature")
    def signature_link(self, correction: Correction):
        url = reverse("admin:letters_signature_change", args=[correction.signature_id])
        return format_html(
            '<a href="{}">#{} on “{}”</a>', url, correction.signature_id, correction.signature.letter
        )

    @admin.display(description="printed now")
    def current(self, correction: Correction) -> str:
        return str(correction.signature.signatory)

    @admin.display(description="signature's status")
    def claim_status(self, correction: Correction) -> str:
        """Whether anyone vouched for the proposer: a claim never confirmed or approved proves nothing."""
        signature = correction.signature
        if signature.approved_at is not None or signature.status == Signature.Status.APPROVED:
            return signature.get_status_display()
        if signature.confirmed_at is not None:
            return f"{signature.get_status_display()}, confirmed, never approved"
        return f"{signature.get_status_display()}, never confirmed"

    @admin.display(description="address at")
    def claim_domain(self, correction: Correction) -> str:
        """The proposer's e-mail domain, and how far it speaks for an organization (claim_address)."""
        signature = correction.signature
        domain = email_domain(signature.contact_email) if signature.contact_email else ""
        if not domain:
            return "—"
        if signature.organization_id:
            how = identity.claim_address(signature.contact_email, signature.organization.website)
            return f"…@{domain} ({how})"
        return f"…@{domain}"

    @admin.action(description="Approve selected corrections (print them)", permissions=["change"])
    def approve(self, request: HttpRequest, queryset):
        outcome = lifecycle.corrections_approve(corrections=queryset, user=request.user)
        self.message_user(
            request, f"{outcome.changed} corrections applied; {outcome.skipped} left as they were."
        )

    @admin.action(description="Reject selected corrections", permissions=["change"])
    def reject(self, request: HttpRequest, queryset):
        outcome = lifecycle.corrections_reject(corrections=queryset, user=request.user)
        self.message_user(
            request, f"{outcome.changed} corrections rejected; {outcome.skipped} left as they were."
        )
