"""Text from Vapi made storable, once, where it enters: Postgres text and jsonb refuse NUL.

Vapi relays what callers and models say, so any string of any message can carry a
``\\u0000`` or a lone surrogate (``\\ud800``). Postgres rejects the first in text and jsonb
columns (and even as a query parameter), and psycopg cannot encode the second, so one such
character would fail every processor that touches the value. Rather than guard each field,
the parsed document is cleaned at the two doors Vapi's data comes in by: the webhook
envelope parser and the REST client. NUL is removed; a lone surrogate becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

# In JSON text a NUL or a surrogate can only arrive as an escape: look for the escape
# first (C speed), walk the document only when one is there.
_HOSTILE_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF])")
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_storable(value: str) -> str:
    """``value`` without NUL, lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub("\ufffd", value)
    return value


def document_storable(value: Any) -> Any:
    """A copy of a parsed JSON document whose every string (keys too) is storable."""
    if isinstance(value, str):
        return text_storable(value)
    if isinstance(value, dict):
        return {text_storable(k): document_storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [document_storable(v) for v in value]
    return value


def may_hold_hostile_text(json_text: str) -> bool:
    """False when the JSON text certainly decodes to storable strings (no NUL/surrogate escape)."""
    return _HOSTILE_ESCAPE.search(json_text) is not None
