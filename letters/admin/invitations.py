"""
Inviting partners in the staff panel (docs/organizers.md, "Circulating a letter"):
the address book (organizations and individuals who may be invited, filtered by
a letter they signed, kind and country) with "Invite to letter…", the
invitations of each letter with what became of them (invited, signed, declined,
no answer) and "Remind those who have not answered", and the addresses that
asked for no invitations. Sending is letters/signing/invitations.py's.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django_countries import countries

from letters.admin.addresses import domain_only, sees_addresses
from letters.admin.params import database_id
from letters.models import Invitation, Letter, Suppression
from letters.signing import invitations
from signatories.models import Individual, Organization

KINDS = {"organizations": Organization, "individuals": Individual}
ADDRESS_BOOK_PAGE = 100


def invitable_letters():
    """The letters partners can be invited to: circulating or open, as read now."""
    return Letter.objects.with_status(Letter.Status.CIRCULATING, Letter.Status.OPEN).order_by("title")


class AddressBookFilter(forms.Form):
    kind = forms.ChoiceField(
        choices=[("organizations", "Organizations"), ("individuals", "Individuals")], required=False
    )
    signed = forms.ModelChoiceField(
        queryset=Letter.objects.exclude(status=Letter.Status.DRAFT).order_by("title"),
        required=False,
        label="Listed on the letter",
        empty_label="any letter or none",
    )
    country = forms.ChoiceField(choices=[("", "any country"), *countries], required=False)


class InviteForm(forms.Form):
    letter = forms.ModelChoiceField(queryset=invitable_letters(), label="Invite to letter", empty_label=None)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["letter"].queryset = invitable_letters()  # as read now, not when the module loaded


def counts_line(counts: dict[str, int]) -> str:
    return (
        f"{counts['invited']} invited: {counts['signed']} signed, {counts['declined']} declined, "
        f"{counts['no_answer']} no answer yet"
    )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["who", "letter", "answered", "sent", "address"]
    list_filter = ["letter"]
    list_select_related = ["letter", "individual", "organization"]
    actions = ["remind"]
    change_list_template = "admin/letters/invitation/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # invitations are made from the address book

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="invited")
    def who(self, invitation: Invitation) -> str:
        return str(invitation.signatory)

    @admin.display(description="answer")
    def answered(self, invitation: Invitation) -> str:
        return {"signed": "signed", "declined": "declined"}.get(invitation.answer, "no answer yet")

    @admin.display(description="e-mail")
    def sent(self, invitation: Invitation) -> str:
        if invitation.sent_at is None:
            return "waiting to be sent"
        sent = f"sent {invitation.sent_at:%d %b %Y}"
        return f"{sent}, reminded {invitation.reminded_at:%d %b %Y}" if invitation.reminded_at else sent

    @admin.display(description="address")
    def address(self, invitation: Invitation) -> str:
        return invitation.email if self._sees_addresses else domain_only(invitation.email)

    def get_list_display(self, request: HttpRequest):
        self._sees_addresses = sees_addresses(request)
        return super().get_list_display(request)

    @admin.action(description="Remind those who have not answered", permissions=["invite"])
    def remind(self, request: HttpRequest, queryset) -> None:
        reminded = invitations.invitations_remind(invitations=queryset)
        self.message_user(
            request,
            f"{reminded} reminder(s) on their way. Whoever answered, or was sent or reminded in the last "
            "three days, gets none.",
        )

    def changelist_view(self, request: HttpRequest, extra_context=None):
        letter_id = database_id(request.GET.get("letter__id__exact", ""))
        letters = Letter.objects.filter(invitations__isnull=False).distinct().order_by("title")
        if letter_id is not None:
            letters = letters.filter(pk=letter_id)
        summary = [(letter, counts_line(letter.invitations.all().counts())) for letter in letters[:20]]
        extra = {"invitation_counts": summary, "address_book_url": reverse("admin:letters_address_book")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self):
        book = path(
            "address-book/", self.admin_site.admin_view(self.address_book), name="letters_address_book"
        )
        return [book, *super().get_urls()]

    def address_book(self, request: HttpRequest):
        """Who may be invited, filtered; "Invite to letter…" for the ones ticked."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        filters = AddressBookFilter(request.GET or None)
        chosen = filters.cleaned_data if filters.is_valid() else {}
        model = KINDS.get(chosen.get("kind") or "organizations", Organization)
        if request.method == "POST":
            return self._invite(request, model)
        records = invitations.address_book(
            model, signed=chosen.get("signed"), country=chosen.get("country", "")
        )
        page = Paginator(records, ADDRESS_BOOK_PAGE).get_page(request.GET.get("p"))
        shows = sees_addresses(request)
        rows = [
            (record, address if shows else domain_only(address))
            for record in page
            for address in [invitations.contact_address(record)]
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Address book",
            "filters": filters,
            "rows": rows,
            "page": page,
            "kind": "individuals" if model is Individual else "organizations",
            "invite_form": InviteForm(),
            "can_invite": self.has_invite_permission(request),
        }
        return TemplateResponse(request, "admin/letters/invitation/address_book.html", context)

    def has_invite_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("letters.add_invitation")

    def _invite(self, request: HttpRequest, model):
        if not self.has_invite_permission(request):
            raise PermissionDenied
        form = InviteForm(request.POST)
        ids = [pk for piece in request.POST.getlist("ids") if (pk := database_id(piece)) is not None]
        if not form.is_valid() or not ids:
            messages.error(request, "Tick at least one name and choose a circulating or open letter.")
            return HttpResponseRedirect(request.get_full_path())
        letter = form.cleaned_data["letter"]
        chosen = list(invitations.address_book(model).filter(pk__in=ids[:1000]))
        outcome = invitations.invitations_create(letter=letter, signatories=chosen, user=request.user)
        messages.success(request, _outcome_words(outcome, letter))
        return HttpResponseRedirect(
            reverse("admin:letters_invitation_changelist") + "?" + urlencode({"letter__id__exact": letter.pk})
        )


def _outcome_words(outcome: invitations.InvitedOutcome, letter: Letter) -> str:
    words = [f"{outcome.invited} invitation(s) to “{letter.title}” on their way."]
    if outcome.already:
        words.append(f"{outcome.already} already invited to this letter: not invited again.")
    if outcome.suppressed:
        words.append(f"{outcome.suppressed} asked for no more invitations: skipped.")
    if outcome.without_address:
        words.append(f"{outcome.without_address} without an e-mail address: skipped.")
    return " ".join(words)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Addresses that asked for no invitations: how many, since when. Staff add none for anyone."""

    list_display = ["__str__", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
