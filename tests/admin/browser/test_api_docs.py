"""/api/docs/ renders from our own origin: with every non-local request blocked, under the CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.admin.browser.conftest import assert_no_csp_violations, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_with_the_network_off(page, live_server):
    local = urlsplit(live_server.url).netloc
    blocked: list[str] = []

    def only_local(route) -> None:
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    response = page.goto(f"{live_server.url}/api/docs/", wait_until="networkidle")
    assert response.status == 200
    assert "Content-Security-Policy" in response.headers or "content-security-policy" in response.headers
    page.wait_for_selector(".swagger-ui .info .title")
    assert "voiceops API" in page.locator(".swagger-ui .info .title").inner_text()
    # The operations of the schema are listed (the schema loaded and rendered).
    assert page.locator(".opblock-tag-section").count() > 3
    assert blocked == []
    shot(page, "api-docs-offline")
    assert_no_csp_violations(page)
