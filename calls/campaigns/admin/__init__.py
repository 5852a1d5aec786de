"""Campaign admin: ``campaigns`` registers the model admins, ``room`` builds the campaign page."""

from calls.campaigns.admin import campaigns  # noqa: F401 - registers the admins
