"""Campaign admin: control buttons, CSV upload with a dry-run preview, progress, kill switch.

The admin only parses and authorises; every action is a service call, and domain errors
become admin messages or form errors (never a 500).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from simple_history.admin import SimpleHistoryAdmin

from calls.admin.export import CsvExportMixin
from calls.campaigns.admin.room import (
    RetryPolicyFormMixin,
    progress_words,
    recipient_filters,
    recipients_changelist_url,
    retry_policy_fieldset,
    retry_policy_rows,
)
from calls.campaigns.selectors import campaign_activity, campaign_progress, campaign_recipients
from calls.campaigns.services.budget import budget_usage
from calls.campaigns.services.control import (
    campaign_cancel,
    campaign_pause,
    campaign_resume,
    campaign_start,
    outbound_kill_switch_set,
)
from calls.campaigns.services.outcomes import retry_policy_errors
from calls.campaigns.services.recipients import recipients_import
from calls.enums import RecipientState
from calls.exports import decision_export_rows, recipient_export_rows
from calls.models import Campaign, CampaignRecipient, DialAttempt, DispatchDecision, OutboundSwitch
from voiceops.console.imports import recipient_import_start
from voiceops.console.models import RecipientImport
from voiceops.console.readonly import ReadOnlyAdmin
from voiceops.errors import DomainError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
ACTIONS = {
    "start": campaign_start,
    "pause": campaign_pause,
    "resume": campaign_resume,
    "cancel": campaign_cancel,
}


class CampaignForm(RetryPolicyFormMixin, forms.ModelForm):
    class Meta:
        model = Campaign
        fields = (
            "name",
            "assistant",
            "phone_number",
            "phone_numbers",
            "starts_at",
            "ends_at",
            "max_concurrent_calls",
            "max_calls_per_minute",
            "window_start",
            "window_end",
            "max_attempts",
            "reached_min_seconds",
            "reached_requires_success",
            "reached_structured_field",
            "spend_limit",
            "requires_consent",
            "default_region",
            "retention_days",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for problem in retry_policy_errors(self.instance.retry_policy):
            self.add_error(None, problem)
        for name in ("max_concurrent_calls", "max_calls_per_minute", "max_attempts"):
            if data.get(name) is not None and data[name] < 1:
                self.add_error(name, "Must be at least 1.")
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and start >= end:
            self.add_error(
                "window_end", "The calling window must end after it starts (same day, local time)."
            )
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The end time must be after the start time.")
        if data.get("spend_limit") is not None and data["spend_limit"] <= 0:
            self.add_error("spend_limit", "Leave empty for no limit, or enter a positive amount.")
        return data


class UploadForm(forms.Form):
    file = forms.FileField(
        required=False, help_text="CSV with a 'number' column; optional name, timezone, variables."
    )
    csv_text = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            if upload.size > MAX_UPLOAD_BYTES:
                raise forms.ValidationError(
                    f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
                )
            raw = upload.read()
            try:
                data["csv_text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                try:
                    data["csv_text"] = raw.decode("cp1252")
                except UnicodeDecodeError:
                    raise forms.ValidationError("The file is not UTF-8 text; save it as CSV UTF-8.")
        if not data.get("csv_text"):
            raise forms.ValidationError("Choose a CSV file to upload.")
        return data


FINISHED_STATES = (
    RecipientState.DONE,
    RecipientState.FAILED,
    RecipientState.BLOCKED,
    RecipientState.CANCELLED,
)


def _progress_context(campaign: Campaign) -> dict[str, Any]:
    progress = campaign_progress(campaign=campaign)
    states = progress.get("recipient_states", {})
    return {
        "progress": progress,
        "words": progress_words(progress),
        "finished": sum(states.get(state, 0) for state in FINISHED_STATES),
    }


@admin.register(Campaign)
class CampaignAdmin(SimpleHistoryAdmin):
    form = CampaignForm
    list_display = ("name", "state", "assistant", "max_concurrent_calls", "starts_at", "created_at")
    list_filter = ("state",)
    search_fields = ("name",)
    filter_horizontal = ("phone_numbers",)
    readonly_fields = ("state", "state_reason", "state_changed_at")
    fieldsets = (
        (None, {"fields": ("name", "assistant", ("phone_number", "phone_numbers"))}),
        (
            "When",
            {"fields": (("starts_at", "ends_at"), ("window_start", "window_end"), "default_region")},
        ),
        ("Pace and limits", {"fields": (("max_concurrent_calls", "max_calls_per_minute"), "spend_limit")}),
        retry_policy_fieldset(),
        (
            "What counts as reached",
            {"fields": ("reached_min_seconds", "reached_requires_success", "reached_structured_field")},
        ),
        ("Compliance and retention", {"fields": ("requires_consent", "retention_days")}),
        ("State", {"fields": ("state", "state_reason", "state_changed_at")}),
    )
    change_form_template = "admin/calls/campaign/change_form.html"
    change_list_template = "admin/calls/campaign/change_list.html"

    def get_urls(self) -> list:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/control/<str:action>/", wrap(self.control_view), name="calls_campaign_control"),
            path("<int:pk>/recipients/upload/", wrap(self.upload_view), name="calls_campaign_upload"),
            path("<int:pk>/progress/", wrap(self.progress_view), name="calls_campaign_progress"),
            path("<int:pk>/imports/<int:job>/", wrap(self.import_view), name="calls_campaign_import"),
            path(
                "<int:pk>/imports/<int:job>/status/",
                wrap(self.import_status_view),
                name="calls_campaign_import_status",
            ),
            path("kill-switch/", wrap(self.kill_switch_view), name="calls_campaign_kill_switch"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = extra_context or {}
        campaign = self.get_object(request, object_id)
        if campaign is not None:
            extra_context.update(_progress_context(campaign))
            shown = request.GET.get("recipients", "")
            extra_context.update(
                switch=OutboundSwitch.objects.filter(pk=1).first(),
                activity=campaign_activity(campaign=campaign),
                recipient_filters=recipient_filters(
                    campaign=campaign, states=extra_context["progress"]["recipient_states"], current=shown
                ),
                recipients=campaign_recipients(campaign=campaign, state=shown),
                recipients_url=recipients_changelist_url(campaign=campaign),
                retry_rows=retry_policy_rows(campaign=campaign),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = extra_context or {}
        extra_context["switch"] = OutboundSwitch.objects.filter(pk=1).first()
        extra_context["budget"] = budget_usage()
        return super().changelist_view(request, extra_context)

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The progress panel alone; the change page re-fetches it while the campaign runs."""
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        return TemplateResponse(request, "admin/calls/campaign/_progress.html", _progress_context(campaign))

    def _campaign(self, request: HttpRequest, pk: int) -> Campaign:
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied
        return campaign

    def _back(self, pk: int) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:calls_campaign_change", args=[pk]))

    def control_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        campaign = self._campaign(request, pk)
        service = ACTIONS.get(action)
        if request.method != "POST" or service is None:
            messages.error(request, "Use the buttons on the campaign page.")
            return self._back(pk)
        try:
            campaign = service(campaign=campaign, by=request.user.get_username())
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Campaign is now {campaign.get_state_display().lower()}.")
        return self._back(pk)

    def upload_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        report = None
        form = UploadForm()
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES)
            if form.is_valid():
                confirm = request.POST.get("confirm") == "1"
                try:
                    # The preview validates in the request; the confirmed upload is written by
                    # a worker in chunks while the page shows its progress.
                    report = recipients_import(
                        campaign=campaign, csv_text=form.cleaned_data["csv_text"], dry_run=True
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    if confirm:
                        job = recipient_import_start(
                            campaign=campaign,
                            csv_text=form.cleaned_data["csv_text"],
                            by=request.user.get_username(),
                        )
                        return HttpResponseRedirect(reverse("admin:calls_campaign_import", args=[pk, job.pk]))
                    form = UploadForm(initial={"csv_text": form.cleaned_data["csv_text"]})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"Upload recipients to {campaign}",
            "form": form,
            "report": report,
            "preview": report.accepted[:50] if report else [],
            "updating": sum(1 for row in report.accepted if row.customer_updates) if report else 0,
        }
        return TemplateResponse(request, "admin/calls/campaign/recipients_upload.html", context)

    def _import_job(self, request: HttpRequest, pk: int, job: int) -> RecipientImport:
        found = get_object_or_404(RecipientImport.objects.select_related("campaign"), pk=job, campaign_id=pk)
        if not self.has_view_permission(request, found.campaign):
            raise PermissionDenied
        return found

    def import_view(self, request: HttpRequest, pk: int, job: int) -> HttpResponse:
        """The upload's progress bar; static JS polls the status view until it is done."""
        found = self._import_job(request, pk, job)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": found.campaign,
            "title": f"Adding recipients to {found.campaign}",
            "job": found,
        }
        return TemplateResponse(request, "admin/calls/campaign/recipients_import.html", context)

    def import_status_view(self, request: HttpRequest, pk: int, job: int) -> JsonResponse:
        found = self._import_job(request, pk, job)
        return JsonResponse(
            {
                "state": found.state,
                "state_label": found.get_state_display(),
                "percent": found.percent,
                "processed_rows": found.processed_rows,
                "accepted_rows": found.accepted_rows,
                "created_recipients": found.created_recipients,
                "updated_customers": found.updated_customers,
                "rejected": len(found.rejected),
                "error": found.error,
            }
        )

    def kill_switch_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not self.has_change_permission(request):
            raise PermissionDenied
        paused = request.POST.get("paused") == "1"
        outbound_kill_switch_set(
            paused=paused, by=request.user.get_username(), reason=request.POST.get("reason", "")
        )
        messages.warning(
            request, "All outbound calling is paused." if paused else "Outbound calling resumed."
        )
        target = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("admin:calls_campaign_changelist")
        return HttpResponseRedirect(target)


@admin.register(CampaignRecipient)
class CampaignRecipientAdmin(CsvExportMixin, admin.ModelAdmin):
    change_list_template = "admin/calls/export_change_list.html"
    export_name = "recipients"
    export_rows = staticmethod(recipient_export_rows)
    list_display = ("number", "name", "campaign", "state", "attempts", "next_attempt_at", "last_outcome")
    list_filter = ("state", "campaign")
    search_fields = ("number", "name")
    raw_id_fields = ("campaign", "customer")
    readonly_fields = ("attempts", "last_outcome", "last_error", "state")


@admin.register(DispatchDecision)
class DispatchDecisionAdmin(CsvExportMixin, ReadOnlyAdmin):
    """Answers "why was this number called (or not) at this time"."""

    change_list_template = "admin/calls/export_change_list.html"
    export_name = "dispatch-decisions"
    export_rows = staticmethod(decision_export_rows)

    list_display = ("at", "rule", "allowed", "campaign", "recipient", "customer", "detail")
    list_filter = ("allowed", "rule", "campaign")
    search_fields = ("customer__number", "recipient__number", "detail")
    date_hierarchy = "at"


@admin.register(DialAttempt)
class DialAttemptAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "campaign",
        "number",
        "attempt_number",
        "state",
        "outcome",
        "vapi_call_id",
        "created_at",
    )
    list_filter = ("state", "outcome", "campaign")
    search_fields = ("number", "vapi_call_id", "idempotency_key")


@admin.register(OutboundSwitch)
class OutboundSwitchAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "changed_by", "changed_at", "reason")
