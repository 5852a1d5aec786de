"""assistant-request's one read: the called number with everything routing needs, and the caller."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model
from django.db.models.base import ModelState

from assistants.models import Assistant, PhoneNumber, RoutingRule
from calls.services.processors.calls import as_dict
from voiceops.phones import number_to_e164
from voiceops.sqlbatch import Prepared, prepared_fetch

M = TypeVar("M", bound=Model)
E164_SHAPE = re.compile(r"^\+[1-9]\d{6,14}$")  # how Vapi sends numbers; compared, never stored

# The number by Vapi id, else by the number itself (phone_number_for's order), with all the
# routing needs. Closures: a day either side of today in UTC; open_state keeps the one on the
# number's own date. json, not jsonb: Django reads jsonb as text.
_READ_SQL = """
SELECT pn.id, pn.mode, pn.time_zone, pn.opening_hours::json, pn.assistant_id,
  (SELECT json_agg(json_build_array(r.id, r.name, r."when", r.caller, r.caller_numbers, r.action,
                                    r.refusal_message, r.assistant_id) ORDER BY r.position, r.id)
     FROM assistants_routingrule r WHERE r.phone_number_id = pn.id AND r.enabled),
  (SELECT json_agg(json_build_array(a.id, a.name, a.vapi_id, a.pushed_version))
     FROM assistants_assistant a
    WHERE a.id = pn.assistant_id
       OR a.id IN (SELECT r.assistant_id FROM assistants_routingrule r
                    WHERE r.phone_number_id = pn.id AND r.enabled)),
  (SELECT json_agg(json_build_array(c.starts_on, c.ends_on, c.name))
     FROM assistants_closure c WHERE c.phone_number_id = pn.id AND c.starts_on <= %s AND c.ends_on >= %s),
  (SELECT json_build_array(cu.id, cu.name, cu.email, cu.external_id, cu.time_zone, cu.vip)
     FROM calls_customer cu WHERE cu.number = %s)
FROM assistants_phonenumber pn
WHERE pn.vapi_id = %s OR pn.number = %s
ORDER BY pn.vapi_id IS NOT DISTINCT FROM %s DESC
LIMIT 1
"""
_READ = Prepared("assistant_request_read", _READ_SQL)  # planned once per connection


def _loaded(model: type[M], **values: Any) -> M:
    """An instance as Django builds one loaded with only these fields (the others deferred: read
    on access), minus Model.__init__'s walk over every field, a fifth of this path's CPU."""
    instance = model.__new__(model)
    instance._state = ModelState()
    instance._state.adding = False
    instance._state.db = DEFAULT_DB_ALIAS
    instance.__dict__.update(values)
    return instance


class Found:
    """What the single read found, as the objects route_choose expects (loaded fields only)."""

    def __init__(self, row: tuple[Any, ...]) -> None:
        phone_id, mode, time_zone, hours, default_id, rules, assistants, closures, customer = row
        self.assistants = {
            pk: _loaded(Assistant, id=pk, name=name, vapi_id=vapi_id, pushed_version=version)
            for pk, name, vapi_id, version in assistants or []
        }
        self.phone = _loaded(PhoneNumber, id=phone_id, mode=mode, time_zone=time_zone, opening_hours=hours)
        self.phone.assistant = self.assistants.get(default_id)
        self.rules = []
        for pk, name, when, caller, numbers, action, refusal, assistant_id in rules or []:
            rule = _loaded(
                RoutingRule,
                id=pk,
                name=name,
                when=when,
                caller=caller,
                caller_numbers=numbers or [],
                action=action,
                refusal_message=refusal,
            )
            rule.assistant = self.assistants.get(assistant_id)
            self.rules.append(rule)
        self.closures = [
            (dt.date.fromisoformat(first), dt.date.fromisoformat(last), name)
            for first, last, name in closures or []
        ]
        self.customer: dict[str, Any] | None = (
            dict(zip(("id", "name", "email", "external_id", "time_zone", "vip"), customer, strict=True))
            if customer
            else None
        )


def routing_read(*, message: dict[str, Any], caller: str | None, at: dt.datetime) -> Found | None:
    phone = as_dict(message.get("phoneNumber"))
    vapi_id = phone.get("id") or as_dict(message.get("call")).get("phoneNumberId")
    vapi_id = vapi_id if isinstance(vapi_id, str) and vapi_id else None
    number = phone.get("number")
    if isinstance(number, str) and not E164_SHAPE.match(number):
        # Parsing costs more than the query: only for an unusual form.
        number = number_to_e164(number, strict=True)
    number = number if isinstance(number, str) else None
    if vapi_id is None and number is None:
        return None
    today = at.date()
    window = (today + dt.timedelta(days=1), today - dt.timedelta(days=1))
    rows = prepared_fetch(_READ, [*window, caller, vapi_id, number, vapi_id])
    return Found(rows[0]) if rows else None
