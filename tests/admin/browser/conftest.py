"""Playwright (sync API) driving Debian's Chromium against pytest-django's live_server.

Chromium must be installed (``.ci/setup-browser`` does it); a missing browser fails the
tests loudly instead of skipping them. Screenshots go to ``artifacts/screenshots/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse
# the test's own ORM calls as "async-unsafe". The ORM is still used synchronously here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run .ci/setup-browser (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, request) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    try:
        yield page
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        try:
            page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-final.png"), full_page=True)
        finally:
            context.close()


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def assert_no_csp_violations(page) -> None:
    """The admin pages must work under the project's Content-Security-Policy (django-csp)."""
    violations = [text for text in page.console_errors if "Content Security Policy" in text]
    assert violations == [], violations


def assert_nothing_cut_off(page) -> None:
    """At 1280 px the page does not scroll sideways and no table cell hides overflowing text."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, f"the page is {width}px wide at a 1280px window"
    scrolled = page.evaluate(
        """() => [...document.querySelectorAll('#content .results, #content table')]
            .filter(el => el.scrollWidth > el.clientWidth + 1)
            .map(el => (el.id || el.className) + ': ' + el.scrollWidth + '>' + el.clientWidth)"""
    )
    assert scrolled == [], f"content scrolls sideways at 1280px: {scrolled}"
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('#content td, #content th')]
            .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflow !== 'visible')
            .map(el => el.innerText.slice(0, 40))"""
    )
    assert clipped == [], clipped
