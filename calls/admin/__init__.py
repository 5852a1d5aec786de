"""The ops console: one admin module per sub-domain."""

from django.contrib import admin

from calls.admin import calls, customers, events  # noqa: F401
from calls.campaigns import admin as campaigns_admin  # noqa: F401 - campaigns, recipients, ledger

# The index links to the ops dashboard (calls/admin/dashboard, mounted at /admin/dashboard/).
admin.site.index_template = "admin/calls/index.html"
admin.site.site_header = "voiceops ops console"
admin.site.site_title = "voiceops"
# The index lists every section; the left sidebar would take a quarter of a 1280px screen
# from the lists ops read.
admin.site.enable_nav_sidebar = False
