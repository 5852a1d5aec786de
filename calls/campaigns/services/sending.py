"""Sending a round's reserved attempts: the requests to Vapi overlap, the database work does not.

A round used to send its attempts one after another, each waiting for the previous POST /call
and its bookkeeping, so the k-th freed slot of a round was filled k dials late. Here each attempt
is still moved to ``requesting`` and committed in the calling thread, one at a time and in order
(the ledger's guarantee: only a committed ``requesting`` row is ever sent), but its POST goes to
a small pool of HTTP-only threads, at most ``CAMPAIGN_DIAL_CONCURRENCY`` in flight. Those threads
never touch the database, so they hold no Postgres connection (docs/SCALING.md, the connection
budget). Answers are recorded in this thread, in order, as they arrive.

The round's first request goes alone, so a 429 or a pause pressed while Vapi answers it stops the
round before anything else leaves, as before. After it, the round stops at the first refusal seen
(429, ``concurrencyBlocked``): nothing more is prepared, the requests already in flight (at most
CAMPAIGN_DIAL_CONCURRENCY - 1, each refusal being no attempt) are recorded, and the caller
releases the attempts not sent.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from calls.campaigns.services.dialing import PostResult, attempt_post, attempt_prepare, attempt_record
from calls.models import DialAttempt

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None


def _pool() -> ThreadPoolExecutor:
    """One pool per process, created after fork (Celery's prefork children each get their own)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(
                max_workers=max(dial_concurrency(), 1), thread_name_prefix="campaign-dial"
            )
            _executor_pid = os.getpid()
        return _executor


def dial_concurrency() -> int:
    return max(int(settings.CAMPAIGN_DIAL_CONCURRENCY), 1)


@dataclass
class RoundResult:
    """Attempts in the order given: ``done`` were prepared (sent or settled), ``unsent`` never were."""

    done: list[DialAttempt] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)
    refused: bool = False


def attempts_send(*, attempt_ids: list[int]) -> RoundResult:
    """Send reserved attempts with overlapping requests; stop preparing at the first refusal."""
    result = RoundResult()
    limit = dial_concurrency()
    flight: deque[tuple[DialAttempt, Future[PostResult]]] = deque()

    def record_head() -> None:
        attempt, future = flight.popleft()
        post = future.result()
        result.refused = result.refused or post.refused
        result.done.append(attempt_record(attempt=attempt, result=post))

    for index, attempt_id in enumerate(attempt_ids):
        while flight and (len(flight) >= limit or flight[0][1].done()):
            record_head()
        if result.refused or any(f.done() and f.result().refused for _, f in flight):
            result.unsent = attempt_ids[index:]
            break
        attempt, mine = attempt_prepare(attempt_id=attempt_id)
        if not mine:
            result.done.append(attempt)
            continue
        if limit == 1 or not result.done:
            # The round's first request goes alone: a refusal, or a pause pressed while Vapi
            # answers it, stops the round before anything else leaves.
            result.refused = _record_now(attempt=attempt, result=result)
            continue
        context = contextvars.copy_context()  # the log context (request/task id) follows the request
        flight.append((attempt, _pool().submit(context.run, attempt_post, attempt=attempt)))
    while flight:
        record_head()
    return result


def _record_now(*, attempt: DialAttempt, result: RoundResult) -> bool:
    """Send and record in this thread (the round's first request; every one when the limit is 1)."""
    post = attempt_post(attempt=attempt)
    result.done.append(attempt_record(attempt=attempt, result=post))
    return result.refused or post.refused
