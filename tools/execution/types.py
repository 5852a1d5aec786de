"""What the execution modules share: the spoken fallbacks and the per-message and per-answer records."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from voiceops.sqlbatch import SqlBatch

APOLOGY = "Sorry, something went wrong on my side with that request. Please try again in a moment."
HOLDING = "I'm still working on that; it is taking a little longer. Please give me a moment and ask me again."
UNKNOWN_TOOL = "I can't do that: the tool {name} does not exist."
DISABLED_TOOL = "I can't do that right now: the tool {name} is switched off."


@dataclass
class ToolRuntime:
    """Per-message facts shared by every tool call in it.

    ``caller_number`` is the line's number only when the line is a phone call; a web call's
    number is whatever its client claimed, so it is empty there and tools act on nothing
    they cannot verify. ``started`` is the message's one clock (``time.monotonic()``).
    """

    vapi_call_id: str
    caller_number: str
    event_id: int | None = None
    started: float = field(default_factory=time.monotonic)
    # Groups this message's invocations: parallel calls are never follow-ups of each other.
    batch: str = field(default_factory=lambda: uuid.uuid4().hex)
    # What the next round trip carries: savepoint releases, recorded answers, timeout resets.
    sql: SqlBatch = field(default_factory=SqlBatch, repr=False)


@dataclass
class Answer:
    result: str = ""
    error: str = ""
    outcome: str = ""


@dataclass
class Follow:
    """This invocation follows up the deferred ``prior_id``; ``delivered`` once its final answer is read."""

    prior_id: int
    delivered: bool
