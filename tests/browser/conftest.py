"""Fixtures of the browser tests: one headless Debian Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browsing import CHROMIUM, FLAGS


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()
