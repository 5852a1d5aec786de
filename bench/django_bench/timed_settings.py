"""Bench settings plus the Server-Timing middleware (outermost, so it times the whole stack)."""

from bench.django_bench.settings import *  # noqa: F403
from bench.django_bench.settings import MIDDLEWARE

MIDDLEWARE = ["bench.django_bench.timing.ServerTimingMiddleware", *MIDDLEWARE]
