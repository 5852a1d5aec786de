"""The campaign page as a control room: retry policy as a form, recipient filters, progress in
words and money. Who changed the state and the recipients shown come from ``selectors``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from calls.campaigns.models import default_retry_policy
from calls.campaigns.services.outcomes import MAX_ATTEMPTS_LIMIT, RETRY_GROUPS
from calls.enums import RecipientState
from calls.models import Campaign

GROUP_LABELS = {
    "busy": "Busy",
    "no-answer": "No answer",
    "voicemail": "Voicemail",
    "not-reached": "Connected, not reached",
    "failed": "Failed to connect",
}


def retry_field_names(group: str) -> tuple[str, str, str]:
    key = group.replace("-", "_")
    return f"retry_{key}", f"retry_{key}_delay", f"retry_{key}_max"


def _retry_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for group in RETRY_GROUPS:
        retry_name, delay_name, max_name = retry_field_names(group)
        fields[retry_name] = forms.BooleanField(
            required=False, label=f"Retry when: {GROUP_LABELS.get(group, group)}"
        )
        fields[delay_name] = forms.IntegerField(
            min_value=0,
            max_value=60 * 24 * 30,
            label="after (minutes)",
            help_text="Wait before the next attempt.",
        )
        fields[max_name] = forms.IntegerField(
            required=False,
            min_value=1,
            max_value=MAX_ATTEMPTS_LIMIT,
            label="at most (attempts)",
            help_text="Empty: only the campaign's max attempts.",
        )
    return fields


def _init(self: Any, *args: Any, **kwargs: Any) -> None:
    forms.ModelForm.__init__(self, *args, **kwargs)
    policy = self.instance.retry_policy if isinstance(self.instance.retry_policy, dict) else {}
    defaults = default_retry_policy()
    for group in RETRY_GROUPS:
        given = policy.get(group)
        rule: dict[str, Any] = given if isinstance(given, dict) else defaults[group]
        retry_name, delay_name, max_name = retry_field_names(group)
        self.initial.setdefault(retry_name, bool(rule.get("retry", True)))
        self.initial.setdefault(delay_name, int(rule.get("delay_minutes", 0)))
        self.initial.setdefault(max_name, rule.get("max_attempts"))


def _clean(self: Any) -> dict[str, Any]:
    data = forms.ModelForm.clean(self) or {}
    policy = {}
    for group in RETRY_GROUPS:
        retry_name, delay_name, max_name = retry_field_names(group)
        delay = data.get(delay_name)
        if delay is None or max_name in self.errors:
            continue  # the field's own error is shown
        policy[group] = {
            "retry": bool(data.get(retry_name)),
            "delay_minutes": delay,
            "max_attempts": data.get(max_name),
        }
    self.instance.retry_policy = policy
    return data


# The retry policy JSON as one checkbox and one delay per outcome group (declared fields, so the
# admin's form factory accepts them in fieldsets).
RetryPolicyFormMixin = type(
    "RetryPolicyFormMixin", (forms.ModelForm,), {**_retry_fields(), "__init__": _init, "clean": _clean}
)


def retry_policy_fieldset() -> tuple[str, dict[str, Any]]:
    rows = [retry_field_names(group) for group in RETRY_GROUPS]
    return (
        "Retry policy",
        {
            "fields": [*rows, "max_attempts"],
            "description": "Per outcome: retry or not, how long to wait, and at most how many "
            "attempts may end that way. Max attempts caps the dials of one recipient across all "
            "outcomes; refusals by Vapi (never rang) count in neither.",
        },
    )


def retry_policy_rows(*, campaign: Campaign) -> list[dict[str, Any]]:
    """The policy in words for the control room (viewers see it too, not only the form)."""
    policy = campaign.retry_policy if isinstance(campaign.retry_policy, dict) else {}
    rows = []
    for group in RETRY_GROUPS:
        given = policy.get(group)
        rule: dict[str, Any] = given if isinstance(given, dict) else default_retry_policy()[group]
        cap = rule.get("max_attempts") or campaign.max_attempts
        rows.append(
            {
                "label": GROUP_LABELS.get(group, group),
                "retry": bool(rule.get("retry", True)),
                "delay_minutes": rule.get("delay_minutes", 0),
                "max_attempts": min(cap, campaign.max_attempts),
                "own_cap": cap < campaign.max_attempts,
            }
        )
    return rows


def recipient_filters(*, campaign: Campaign, states: dict[str, int], current: str) -> list[dict[str, Any]]:
    base = reverse("admin:calls_campaign_change", args=[campaign.pk])
    links = [{"label": "All", "count": sum(states.values()), "url": base, "active": not current}]
    for state in RecipientState:
        count = states.get(state.value, 0)
        if count:
            links.append(
                {
                    "label": state.label,
                    "count": count,
                    "url": f"{base}?{urlencode({'recipients': state.value})}",
                    "active": current == state.value,
                }
            )
    return links


def progress_words(progress: dict[str, Any]) -> dict[str, Any]:
    """Numbers the template shows as they are read: states by name, the finish as a time."""
    states = [
        (RecipientState(key).label, n)
        for key, n in progress.get("recipient_states", {}).items()
        if n and key in RecipientState.values
    ]
    eta_at = parse_datetime(progress["eta_at"]) if progress.get("eta_at") else None
    last_retry = parse_datetime(progress["last_retry_at"]) if progress.get("last_retry_at") else None
    return {"states": states, "eta_at": eta_at, "last_retry_at": last_retry}


def recipients_changelist_url(*, campaign: Campaign) -> str:
    return reverse("admin:calls_campaignrecipient_changelist") + f"?campaign__id__exact={campaign.pk}"
