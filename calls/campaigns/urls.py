"""The campaigns' routes under /api/v1/ (voiceops.api.urls includes them)."""

from rest_framework.routers import SimpleRouter

from calls.campaigns.api import CampaignRecipientViewSet, CampaignViewSet, DispatchDecisionViewSet

router = SimpleRouter()
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register(
    r"campaigns/(?P<campaign_pk>[0-9]{1,18})/recipients",
    CampaignRecipientViewSet,
    basename="campaign-recipient",
)
router.register("dispatch-decisions", DispatchDecisionViewSet, basename="dispatch-decision")

urlpatterns = router.urls
