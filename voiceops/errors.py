"""The domain error hierarchy. Services raise these; views and the admin translate them."""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out as asked. ``code`` is stable and machine-readable."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InvalidState(DomainError):
    code = "invalid_state"


class TryLater(DomainError):
    """Not now, but the same request may succeed after ``retry_after`` seconds (a 429 or 503).

    Never a final answer: the API's Idempotency-Key does not store it, so a retry runs again.
    """

    code = "try_later"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        unavailable: bool = False,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after + 0.999))
        self.unavailable = unavailable
