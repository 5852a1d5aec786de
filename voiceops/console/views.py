"""The person's own console settings (display time zone)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from voiceops.console.models import ConsolePreference
from voiceops.console.timezones import display_zone_name

ZONE_CHOICES = [("", "Site default")] + [(z, z) for z in sorted(zoneinfo.available_timezones())]


class PreferenceForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=ZONE_CHOICES, required=False, label="Display time zone")

    class Meta:
        model = ConsolePreference
        fields = ["time_zone"]


@staff_member_required
def preferences_view(request: HttpRequest) -> HttpResponse:
    preference, _ = ConsolePreference.objects.get_or_create(user_id=int(request.user.pk or 0))
    form = PreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Times are now shown in {display_zone_name(request.user)}.")
        return redirect("console-preferences")
    context = {
        **admin.site.each_context(request),
        "title": "Your console settings",
        "form": form,
        "zone": display_zone_name(request.user),
    }
    return render(request, "console/preferences.html", context)
