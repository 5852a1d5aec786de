"""Helpers for the campaign tests: a running campaign, recipients, and Vapi faked at HTTP level."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from decimal import Decimal
from typing import Any

import responses
from django.utils import timezone

from calls.enums import CallStatus, CampaignState
from calls.hooks import on_call_ended
from calls.models import Call, Campaign, CampaignRecipient
from calls.outcomes import outcome_for_ended_reason
from tests.factories import AssistantFactory, CampaignFactory, CampaignRecipientFactory, CustomerFactory

VAPI = "http://vapi.test"


def make_campaign(**kwargs: Any) -> Campaign:
    assistant = AssistantFactory(vapi_id=str(uuid.uuid4()), pushed_version=7)
    kwargs.setdefault("state", CampaignState.RUNNING)
    return CampaignFactory(assistant=assistant, phone_number__assistant=assistant, **kwargs)


def add_recipient(
    campaign: Campaign, *, time_zone: str = "America/New_York", **customer: Any
) -> CampaignRecipient:
    customer.setdefault("time_zone", time_zone)
    return CampaignRecipientFactory(
        campaign=campaign, customer=CustomerFactory(**customer), time_zone=time_zone
    )


class FakeVapi:
    """POST /call answers like Vapi (CONTRACT §7.4); GET /call lists what was created. Thread-safe."""

    def __init__(
        self, rsps: responses.RequestsMock, *, status: int = 201, body: Any = None, on_create: Any = None
    ) -> None:
        self.lock = threading.Lock()
        self.created: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.status = status
        self.body = body
        self.on_create = on_create
        # Scripted answers for the next POSTs: (status, headers, body); body None = accept the call.
        self.script: list[tuple[int, dict[str, str], Any]] = []
        self.limits: dict[str, Any] = {"concurrencyBlocked": False}
        rsps.add_callback(
            responses.POST, f"{VAPI}/call", callback=self._create, content_type="application/json"
        )
        rsps.add_callback(responses.GET, f"{VAPI}/call", callback=self._list, content_type="application/json")

    def _create(self, request: Any) -> tuple[int, dict, str]:
        payload = json.loads(request.body)
        if self.on_create is not None:
            self.on_create(payload)
        with self.lock:
            scripted = self.script.pop(0) if self.script else None
        if scripted is not None and scripted[2] is not None:
            with self.lock:
                self.refused.append(payload)
            return scripted[0], scripted[1], json.dumps(scripted[2])
        if self.status >= 400:
            return self.status, {}, json.dumps(self.body or {"message": ["bad"], "statusCode": self.status})
        call = {
            "id": str(uuid.uuid4()),
            "type": "outboundPhoneCall",
            "status": "queued",
            "createdAt": timezone.now().isoformat(),
            **{
                k: v
                for k, v in payload.items()
                if k in ("assistantId", "phoneNumberId", "customer", "name", "assistantOverrides")
            },
        }
        with self.lock:
            self.created.append({"payload": payload, "call": call})
        return 201, {}, json.dumps({**call, "subscriptionLimits": dict(self.limits)})

    def _list(self, request: Any) -> tuple[int, dict, str]:
        with self.lock:
            calls = [c["call"] for c in self.created]
        return 200, {}, json.dumps(calls)

    @property
    def payloads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [c["payload"] for c in self.created]


def end_call(
    call: Call,
    reason: str,
    *,
    cost: str | None = None,
    at: dt.datetime | None = None,
    seconds: float = 60.0,
    final: bool = True,
    **fields: Any,
) -> Call:
    """What the webhook area does when a call ends: forward-only status, outcome, cost, then the hook.

    ``seconds`` is how long the call was connected; ``final`` False is a status-update without the
    end-of-call report yet (a provisional outcome)."""
    at = at or timezone.now()
    Call.objects.filter(pk=call.pk).update(
        status=CallStatus.ENDED,
        ended_reason=reason,
        outcome=outcome_for_ended_reason(reason) or "",
        started_at=at - dt.timedelta(seconds=seconds),
        ended_at=at,
        duration_seconds=seconds,
        cost=Decimal(cost) if cost is not None else None,
        has_final_report=final,
        **fields,
    )
    call.refresh_from_db()
    on_call_ended(call=call)
    return call
