"""
Disputes in the staff panel: "that is my name and I did not sign", sent by a
reader from a public list. Staff read it, write to the reader, and decide with
the actions: suspend the entry while they check, reinstate it, reject the
signature, or dismiss the dispute. The address and message are private:
Organizers only (letters/admin/addresses.py), never in a list column.
"""

from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.admin.options import ActionLocation
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from letters import lifecycle
from letters.admin.params import GuardedListMixin
from letters.admin.times import LetterZoneAdminMixin, local_time
from letters.models import Dispute, Signature


@admin.register(Dispute)
class DisputeAdmin(LetterZoneAdminMixin, GuardedListMixin, admin.ModelAdmin):
    list_display = ["received", "entry", "letter_title", "status"]
    list_filter = ["status", "letter"]
    list_select_related = ["letter", "signature__individual", "signature__organization"]
    ordering = ["-created_at", "-pk"]
    fields = ["letter", "entry", "entry_state", "contact_email", "message", "created_at", "status"]
    fields += ["decided_at", "decided_by"]
    readonly_fields = fields
    actions = ["suspend", "reinstate", "reject", "dismiss"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # readers send them, from the letter's page

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Decided through the actions only; nothing on the page is edited.
        return False if obj is not None else super().has_change_permission(request, obj)

    def get_actions(self, request: HttpRequest, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="received", ordering="created_at")
    def received(self, dispute: Dispute) -> str:
        return local_time(dispute.created_at, dispute.letter)

    @admin.display(description="entry disputed")
    def entry(self, dispute: Dispute):
        signature = dispute.signature
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:letters_signature_change", args=[signature.pk]),
            signature.signatory.display_name if signature.signatory else f"#{signature.pk}",
        )

    @admin.display(description="the entry now")
    def entry_state(self, dispute: Dispute) -> str:
        signature = dispute.signature
        if signature.erased_at:
            return "erased at the signer’s request"
        if signature.suspended_at:
            return f"suspended (off every list): {signature.suspension_reason}"
        if signature.status == Signature.Status.REJECTED:
            return "rejected"
        return (
            "on the list" if signature.status == Signature.Status.APPROVED else signature.get_status_display()
        )

    @admin.display(description="letter", ordering="letter__title")
    def letter_title(self, dispute: Dispute) -> str:
        return Truncator(dispute.letter.title).chars(40)

    # -- the decisions -------------------------------------------------------

    def _signatures(self, queryset):
        return Signature.objects.filter(pk__in=queryset.values("signature_id"))

    @admin.action(
        description="Suspend the entry while we check (off every day’s list)", permissions=["change"]
    )
    def suspend(self, request: HttpRequest, queryset):
        for signature in self._signatures(queryset):
            lifecycle.signature_suspend(signature=signature, user=request.user, reason="Disputed by a reader")
        self.message_user(request, "The entries are off every list until you reinstate or reject them.")

    @admin.action(description="Reinstate the entry: the signature stands", permissions=["change"])
    def reinstate(self, request: HttpRequest, queryset):
        for signature in self._signatures(queryset):
            lifecycle.signature_reinstate(signature=signature, user=request.user)
        self._decided(request, queryset, Dispute.Status.REINSTATED)

    @admin.action(
        description="Reject the signature: the name was used without consent", permissions=["change"]
    )
    def reject(self, request: HttpRequest, queryset):
        with transaction.atomic():
            outcome = lifecycle.signatures_reject(
                signatures=self._signatures(queryset),
                user=request.user,
                reason="Disputed: signed without consent",
            )
            self._decided(request, queryset, Dispute.Status.REJECTED, report=False)
        self.message_user(request, f"{outcome.changed} signatures rejected; they are on no list.")

    @admin.action(description="Dismiss: nothing to do", permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset):
        self._decided(request, queryset, Dispute.Status.DISMISSED)

    def _decided(self, request: HttpRequest, queryset, status: str, *, report: bool = True) -> None:
        disputes = list(queryset)
        queryset.model.objects.filter(pk__in=[d.pk for d in disputes]).update(
            status=status, decided_at=timezone.now(), decided_by=request.user
        )
        if disputes:
            LogEntry.objects.log_actions(request.user.pk, disputes, CHANGE, f"Decided: {status}.")
        if report:
            label = Dispute.Status(status).label
            self.message_user(request, f"{len(disputes)} disputes: {label}", messages.SUCCESS)
