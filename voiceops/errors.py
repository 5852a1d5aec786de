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
