"""Top-level URLs. Each area owns its own urls module; this file only includes them."""

from django.contrib import admin
from django.urls import include, path

from voiceops import health, metrics
from voiceops.console.two_factor import two_factor_setup_view
from voiceops.console.views import preferences_view

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("webhooks/", include("calls.webhooks.urls")),
    path("api/", include("voiceops.api.urls")),
    path("admin/dashboard/", include("calls.admin.dashboard.urls")),
    path("admin/preferences/", preferences_view, name="console-preferences"),
    path("admin/two-factor/", two_factor_setup_view, name="console-2fa-setup"),
    path("admin/", admin.site.urls),
]

# JSON errors for /api/ paths that never reach a DRF view (HTML elsewhere).
handler400 = "voiceops.api.errors.handler400"
handler403 = "voiceops.api.errors.handler403"
handler404 = "voiceops.api.errors.handler404"
handler500 = "voiceops.api.errors.handler500"
