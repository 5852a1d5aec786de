"""Where the discovery of calls Vapi has and voiceops never stored has got to.

One row (``name="calls"``) is the persisted cursor: ``scanned_until`` says every call created
before it was listed once; an open window (``window_start``/``window_end``) is paged
newest-first, ``page_before`` being where the next page starts, so a window is finished across
ticks and a Vapi outage resumes at the same page. ``leased_until`` keeps two beat ticks from
scanning at once (a lease, not a session lock, so a connection pooler cannot break it); the
unique ``Call.vapi_id`` is what actually forbids duplicates.
"""

from __future__ import annotations

from django.db import models


class CallDiscoveryCursor(models.Model):
    name = models.CharField(max_length=40, unique=True)
    scanned_until = models.DateTimeField(
        null=True, blank=True, help_text="Every call Vapi created before this moment was listed once."
    )
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    page_before = models.DateTimeField(
        null=True, blank=True, help_text="Next page: calls created before this (empty: the window's end)."
    )
    page_before_inclusive = models.BooleanField(default=False)
    leased_until = models.DateTimeField(null=True, blank=True)
    pages_scanned = models.PositiveBigIntegerField(default=0)
    calls_recovered = models.PositiveBigIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Discovery {self.name} (scanned until {self.scanned_until})"
