"""Admin registrations for the calls app, one module per area."""

from calls.admin import campaigns  # noqa: F401
