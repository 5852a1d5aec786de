"""Linking what tools did in a call to its Call row, once that row exists.

A tool call can arrive before voiceops has a Call row for the Vapi call (an inbound call
whose first webhook is the tool call, an outbound call whose id is not saved yet). Its
invocation and any appointment it booked carry the Vapi call id; this fills the foreign
key when the row is created, and again when the end-of-call report lands (which catches a
tool call that committed while the row was being created).
"""

from __future__ import annotations

from calls.models import Call
from tools.models import Appointment, ToolInvocation


def tool_records_link_call(*, call: Call) -> int:
    """Point the call's unlinked tool invocations and appointments at it; returns rows changed."""
    if not call.vapi_id or call.pk is None:
        return 0
    unlinked = {"vapi_call_id": call.vapi_id, "call__isnull": True}
    invocations = ToolInvocation.objects.filter(**unlinked).update(call=call)
    appointments = Appointment.objects.filter(**unlinked).update(call=call)
    return invocations + appointments
