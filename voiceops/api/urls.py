"""The DRF API under /api/: the schema, its docs, and each app's routes under /api/v1/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from assistants.api.urls import urlpatterns as assistants_urls
from calls.api.campaigns import CampaignRecipientViewSet, CampaignViewSet
from calls.api.decisions import DispatchDecisionViewSet
from calls.api.urls import urlpatterns as calls_urls
from tools.api.urls import urlpatterns as tools_urls

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register(
    r"campaigns/(?P<campaign_pk>[0-9]{1,18})/recipients",
    CampaignRecipientViewSet,
    basename="campaign-recipient",
)
router.register("dispatch-decisions", DispatchDecisionViewSet, basename="dispatch-decision")

v1_urls = [*assistants_urls, *tools_urls, *calls_urls, *router.urls]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include((v1_urls, "api"), namespace="v1")),
]
