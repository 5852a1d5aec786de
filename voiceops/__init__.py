"""voiceops: the self-hosted operations backend for Vapi voice agents."""

from voiceops.celery import app as celery_app

__all__ = ("celery_app",)
