"""Browser tests: Playwright drives Debian's Chromium against a real `dockyard server` (API, pages, workers,
Caddy, Docker). Chromium is never downloaded: `deploy/provision.sh --tests` installs Debian's package.

Each test's pages are saved as screenshots under `tests/e2e/screenshots/` (ignored by git), so a person can
look at what the tests saw.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from tests.integration.conftest import docker_client, instance, platform  # noqa: F401 - fixtures used here

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless; its absence fails the tests (they never skip)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run deploy/provision.sh --tests (it installs Debian's chromium)")
    launched = playwright_driver.chromium.launch(
        executable_path=CHROMIUM,
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )
    yield launched
    launched.close()


def new_context(browser: Browser, base_url: str, viewport: dict[str, int] = DESKTOP) -> BrowserContext:
    """A fresh browser profile (no cookies) on the platform."""
    context = browser.new_context(base_url=base_url, viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    return context


def screenshot(page: Page, name: str) -> None:
    """Save the page as it looks now, full length, for people to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    file = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(file), full_page=True)
