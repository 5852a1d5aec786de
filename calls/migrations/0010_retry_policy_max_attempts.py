"""Retry policies gain a per-group ``max_attempts``. Existing policies get ``null`` there (only the
campaign's ``max_attempts`` applies, as before) and a missing or malformed group gets the default
the dialer already used in its place, so no campaign's behaviour changes (issue 18)."""

from django.db import migrations

GROUP_DEFAULTS = {
    "busy": {"retry": True, "delay_minutes": 30},
    "no-answer": {"retry": True, "delay_minutes": 120},
    "voicemail": {"retry": True, "delay_minutes": 240},
    "not-reached": {"retry": True, "delay_minutes": 60},
    "failed": {"retry": True, "delay_minutes": 60},
}


def add_group_caps(apps, schema_editor):
    Campaign = apps.get_model("calls", "Campaign")
    for campaign in Campaign.objects.only("pk", "retry_policy").iterator():
        old = campaign.retry_policy if isinstance(campaign.retry_policy, dict) else {}
        policy = dict(old)  # unknown keys are kept; the dialer never read them
        for group, default in GROUP_DEFAULTS.items():
            rule = dict(old[group]) if isinstance(old.get(group), dict) else dict(default)
            rule.setdefault("max_attempts", None)
            policy[group] = rule
        if policy != campaign.retry_policy:
            Campaign.objects.filter(pk=campaign.pk).update(retry_policy=policy)


def drop_group_caps(apps, schema_editor):
    Campaign = apps.get_model("calls", "Campaign")
    for campaign in Campaign.objects.only("pk", "retry_policy").iterator():
        if isinstance(campaign.retry_policy, dict):
            policy = {
                group: {k: v for k, v in rule.items() if k != "max_attempts"} if isinstance(rule, dict) else rule
                for group, rule in campaign.retry_policy.items()
            }
            Campaign.objects.filter(pk=campaign.pk).update(retry_policy=policy)


class Migration(migrations.Migration):
    dependencies = [("calls", "0009_outcomes_transfer_and_reach")]

    operations = [migrations.RunPython(add_group_caps, drop_group_caps)]
