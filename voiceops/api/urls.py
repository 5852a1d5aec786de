"""The DRF API under /api/: the schema, its docs, and each app's routes under /api/v1/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from assistants.api.urls import urlpatterns as assistants_urls
from calls.api.urls import urlpatterns as calls_urls
from calls.campaigns.urls import urlpatterns as campaigns_urls
from tools.api.urls import urlpatterns as tools_urls

v1_urls = [*assistants_urls, *tools_urls, *calls_urls, *campaigns_urls]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include((v1_urls, "api"), namespace="v1")),
]
