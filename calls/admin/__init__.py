"""The ops console: one admin module per sub-domain."""

from django.contrib import admin

from calls.admin import calls, campaigns, customers, events  # noqa: F401

# The index links to the ops dashboard (calls/admin/dashboard, mounted at /admin/dashboard/).
admin.site.index_template = "admin/calls/index.html"
admin.site.site_header = "voiceops ops console"
admin.site.site_title = "voiceops"
# The index lists every section; the left sidebar would take a quarter of a 1280px screen
# from the lists ops read.
admin.site.enable_nav_sidebar = False
