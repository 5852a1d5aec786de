"""Running one tool call exactly once, within its deadline, and recording the answer.

Idempotency: the ``ToolInvocation`` row is claimed with ``INSERT ... ON CONFLICT DO NOTHING``
on (Vapi call id, toolCallId) -- model providers reuse short ids like ``call_0`` across
calls, so the toolCallId alone would answer one caller with another's result -- in the same
transaction that runs the handler and records its answer. A second delivery
of the same toolCallId that races the first blocks on the unique index until the first
commits (bounded by ``lock_timeout``), then finds the recorded answer. The side effect and
the answer commit together, so "answer recorded" means "side effect done", and a rolled
back attempt leaves nothing behind.

Deadline: the handler runs with Postgres ``statement_timeout``/``lock_timeout`` set to its
remaining time, and a ``ToolContext`` whose ``check_deadline``/``remaining`` let handlers
doing other I/O stop in time. When the deadline passes, the handler's savepoint rolls back,
the row is marked ``deferred`` and the caller hears a holding sentence; a Celery task runs
the handler again, without the deadline, after commit. Python code that ignores the
deadline is not pre-empted (threads cannot be killed); it just answers late.

One clock per message: every tool call of a message measures its deadline from the moment
the message arrived (``ToolRuntime.started``), so N tool calls answer within the largest
deadline, not N times it; a call whose time is already spent is deferred without running.

Lineage: the model asks again after a holding answer, with a new toolCallId. That
follow-up is the next tool call of the Vapi call after the deferred one's message, and of
the same tool; it is answered with the deferred run's result (once finished), linked by
``follows`` and the deferred row marked delivered. Anything else in between (another tool
call), or a request after the answer was delivered, runs afresh: "book, cancel, book the
same slot" books again instead of replaying a cancelled confirmation.
"""
