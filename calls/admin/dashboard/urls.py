"""Mounted at /admin/dashboard/ (before admin.site.urls) by voiceops/urls.py."""

from django.contrib import admin
from django.urls import path

from calls.admin.dashboard.views import dashboard_view

urlpatterns = [
    path("", admin.site.admin_view(dashboard_view), name="ops-dashboard"),
]
