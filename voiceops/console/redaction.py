"""Secret redaction and JSON display for everything the ops console shows of Vapi payloads."""

from __future__ import annotations

import json
import re
from typing import Any

from django.utils.html import format_html

SECRET_KEY_PATTERN = re.compile(
    r"(secret|token|password|passwd|authorization|api[-_]?key|credential|signature|private[-_]?key|"
    r"cookie|x-vapi-secret|bearer)",
    re.IGNORECASE,
)
REDACTED = "••••••"


def redact(value: Any) -> Any:
    """A copy of ``value`` with every mapping entry whose key names a secret replaced by a mask.

    Vapi payloads can carry ``server.secret``, credentials and auth headers; the admin
    shows raw payloads to ops staff, so everything it renders goes through here first.
    """
    if isinstance(value, dict):
        return {
            key: (
                REDACTED if isinstance(key, str) and SECRET_KEY_PATTERN.search(key) and val else redact(val)
            )
            for key, val in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def redact_text(text: str) -> str:
    """Redact a JSON document given as text; text that is not JSON is returned masked of known secrets."""
    try:
        parsed = json.loads(text)
    except (TypeError, ValueError):
        return mask_known_secrets(text or "")
    return json.dumps(redact(parsed), indent=2, ensure_ascii=False, sort_keys=False)


def mask_known_secrets(text: str) -> str:
    """Mask the configured secrets (Vapi API key, webhook secrets) wherever they occur verbatim."""
    from django.conf import settings

    secrets = [getattr(settings, "VAPI_API_KEY", ""), *getattr(settings, "VAPI_WEBHOOK_SECRET", [])]
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, REDACTED)
    return text


def pretty_json(value: Any, *, max_chars: int = 20000) -> str:
    """Redacted, indented JSON in a <pre>, truncated so one huge payload cannot stall a page."""
    if isinstance(value, str):
        text = redact_text(value)
    else:
        text = json.dumps(redact(value), indent=2, ensure_ascii=False, default=str)
    text = mask_known_secrets(text)
    if len(text) > max_chars:
        text = text[:max_chars] + f"\n… ({len(text) - max_chars} more characters)"
    return format_html('<pre class="vo-json">{}</pre>', text)
