"""The official Vapi SDK's models (package ``vapi``), imported when a test first asks for one."""

from __future__ import annotations

import importlib
from typing import Any


def sdk_model(name: str) -> Any:
    """``vapi.types.<name>``, imported on first use.

    The big models (``Call``, ``CreateAssistantDto``, the server-message responses) build
    thousands of pydantic classes: about 12 s per process. Imported at module level, every
    pytest process paid that while collecting, whichever tests it then ran.
    """
    return getattr(importlib.import_module("vapi.types"), name)
