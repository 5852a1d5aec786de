"""``manage.py check --deploy`` is clean with production settings (run in a clean subprocess).

The test process itself runs with test-only environment defaults (no SSL redirect, insecure
cookies), so the check runs in a child with a production-like environment built from scratch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "voiceops.settings",
    "DEBUG": "0",
    "SECRET_KEY": "k3J#9x!Qz7@vL2$wR8^tN5&yB1*eH4(uM6)pD0_sF-gA+cZ=oIq7Wm",
    "ALLOWED_HOSTS": "voiceops.example.com",
    "DATABASE_URL": os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voiceops"),
    "REDIS_URL": "redis://127.0.0.1:6379/15",
    "VAPI_WEBHOOK_SECRET": "whsec-prod-like-secret-value",
}


def run_check(**overrides: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **PRODUCTION_ENV}
    env.update(overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout + result.stderr


def test_check_deploy_catches_a_weakened_setting():
    """The check above can fail: switching HSTS and secure cookies off is reported."""
    result = run_check(SECURE_HSTS_SECONDS="0", SESSION_COOKIE_SECURE="0")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "security.W004" in output and "security.W012" in output
