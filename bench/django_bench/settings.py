"""Production settings plus a bare JSON view, so the webhook can be compared with Django itself."""

from voiceops.settings import *  # noqa: F403

ROOT_URLCONF = "bench.django_bench.urls"
