"""The assistants app's routes under /api/v1/ (voiceops.api.urls includes them)."""

from rest_framework.routers import SimpleRouter

from assistants.api.views import AssistantViewSet, PhoneNumberViewSet
from assistants.routing.api import ClosureViewSet, RoutingRuleViewSet

router = SimpleRouter()
router.register("assistants", AssistantViewSet, basename="assistant")
router.register("phone-numbers", PhoneNumberViewSet, basename="phone-number")
router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
router.register("closures", ClosureViewSet, basename="closure")

urlpatterns = router.urls
