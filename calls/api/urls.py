"""The calls app's routes under /api/v1/ (voiceops.api.urls includes them)."""

from rest_framework.routers import SimpleRouter

from calls.api.calls import CallViewSet
from calls.api.customers import CustomerViewSet
from calls.api.events import WebhookEventViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("calls", CallViewSet, basename="call")
router.register("webhook-events", WebhookEventViewSet, basename="webhook-event")

urlpatterns = router.urls
