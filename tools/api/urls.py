"""The tools app's routes under /api/v1/ (voiceops.api.urls includes them)."""

from rest_framework.routers import SimpleRouter

from tools.api.views import AppointmentViewSet, ResourceViewSet, ToolViewSet

router = SimpleRouter()
router.register("tools", ToolViewSet, basename="tool")
router.register("resources", ResourceViewSet, basename="resource")
router.register("appointments", AppointmentViewSet, basename="appointment")

urlpatterns = router.urls
