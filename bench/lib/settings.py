"""Production settings plus a bare JSON view, so benchmarks compare against Django itself."""

from voiceops.settings import *  # noqa: F403

ROOT_URLCONF = "bench.lib.urls"
