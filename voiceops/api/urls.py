"""The DRF API under /api/. Each app registers its viewsets here."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from assistants.api import AssistantViewSet, PhoneNumberViewSet
from assistants.routing.api import ClosureViewSet, RoutingRuleViewSet
from calls.api.calls import CallViewSet
from calls.api.customers import CustomerViewSet
from calls.api.events import WebhookEventViewSet
from calls.campaigns.api import CampaignRecipientViewSet, CampaignViewSet, DispatchDecisionViewSet
from tools.api import AppointmentViewSet, ResourceViewSet, ToolViewSet

router = SimpleRouter()
router.register("assistants", AssistantViewSet, basename="assistant")
router.register("phone-numbers", PhoneNumberViewSet, basename="phone-number")
router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
router.register("closures", ClosureViewSet, basename="closure")
router.register("tools", ToolViewSet, basename="tool")
router.register("resources", ResourceViewSet, basename="resource")
router.register("customers", CustomerViewSet, basename="customer")
router.register("calls", CallViewSet, basename="call")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register(
    r"campaigns/(?P<campaign_pk>[0-9]{1,18})/recipients",
    CampaignRecipientViewSet,
    basename="campaign-recipient",
)
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("webhook-events", WebhookEventViewSet, basename="webhook-event")
router.register("dispatch-decisions", DispatchDecisionViewSet, basename="dispatch-decision")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("v1/", include((router.urls, "api"), namespace="v1")),
]
