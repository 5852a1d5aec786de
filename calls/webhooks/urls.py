"""Webhook URLs: POST /webhooks/vapi/."""
from django.urls import path

urlpatterns: list = []
