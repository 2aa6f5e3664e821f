"""Fixtures of the browser tests: one headless Debian Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsing import CHROMIUM, FLAGS, WatchedBrowser


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = WatchedBrowser(p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=FLAGS))
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _no_csp_violation(request: pytest.FixtureRequest) -> Iterator[None]:
    """A browser test fails if any page it opened broke the Content-Security-Policy
    (contracts/headers.py): an inline script, style or handler the policy refused."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    if isinstance(browser, WatchedBrowser):
        browser.take_violations()
    yield
    if isinstance(browser, WatchedBrowser):
        found = browser.take_violations()
        assert not found, "Content-Security-Policy violations:\n" + "\n".join(found)
