"""Security headers: CSP (django-csp) on the admin, HSTS on HTTPS, and the admin still works."""

from __future__ import annotations

import re

import pytest


@pytest.mark.django_db
def test_admin_login_page_has_a_strict_csp_and_no_inline_script(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    # Under script-src 'self' an inline script would not run: the admin must not need one.
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


@pytest.mark.django_db
def test_admin_pages_render_for_staff_under_the_policy(admin_client):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert "Content-Security-Policy" in response.headers
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


@pytest.mark.django_db
def test_hsts_and_hardening_headers_on_https(client):
    response = client.get("/healthz", secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response.headers["Strict-Transport-Security"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_session_and_csrf_cookies_are_secure_by_default_in_production():
    """tests/settings.py turns them off for the plain-HTTP test client; production defaults are on."""
    import os
    import subprocess
    import sys

    from tests.security.test_deploy_check import PRODUCTION_ENV, ROOT

    code = (
        "import django;django.setup();from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    env = {"PATH": os.environ.get("PATH", ""), **PRODUCTION_ENV}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.stdout.split() == ["True", "True", "True", "31536000"], out.stderr
