"""Webhook URLs: POST /webhooks/vapi/."""

from django.urls import path

from calls.webhooks.views import VapiWebhookView

app_name = "webhooks"

urlpatterns = [
    path("vapi/", VapiWebhookView.as_view(), name="vapi"),
]
