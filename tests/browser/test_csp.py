"""The strict Content-Security-Policy (contracts/headers.py) in a real Chromium: what it refuses
is refused and seen by the browser tests' watch (conftest.py fails a test that met any), and
the pages the other browser tests do not open (the platform's, the station's missing ticket)
load under it with their styles and behaviour."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browsing import MARKS, WatchedBrowser, shot, wait_for_function
from support import LiveServer

from central.app import create_app as create_platform
from contracts.headers import HEADERS

pytestmark = MARKS

HOSTILE = """<!doctype html><html lang="en"><head><title>x</title>
<style>body { background: rgb(255, 0, 0); }</style></head>
<body><p id="p" style="color: rgb(0, 255, 0)">x</p>
<button id="b" onclick="window.clicked = 1">b</button>
<script>window.ran = 1;</script></body></html>"""


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[LiveServer]:
    server = LiveServer(create_platform({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
                                         "DEMO": True}))
    yield server
    server.stop()


def test_the_policy_refuses_inline_code_and_the_watch_sees_it(browser: WatchedBrowser) -> None:
    page = browser.new_page()
    page.route("http://csp.test/", lambda route: route.fulfill(
        status=200, body=HOSTILE, headers={"Content-Type": "text/html", **dict(HEADERS)}))
    page.goto("http://csp.test/")
    page.click("#b")
    assert page.evaluate("[window.ran, window.clicked]") == [None, None]
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    assert page.evaluate("getComputedStyle(document.getElementById('p')).color") \
        != "rgb(0, 255, 0)"
    page.close()
    found = browser.take_violations()  # taken here, so this test's own teardown stays green
    text = "\n".join(found)
    assert "script-src" in text and "style-src" in text, found


def test_the_platform_pages_load_under_the_policy(browser: WatchedBrowser,
                                                  platform: LiveServer) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.goto(f"{platform.url}/stations/nearby")
    # the moved stylesheet applies: the page's own font size
    assert page.evaluate("getComputedStyle(document.body).fontSize") == "19.2px"
    page.goto(f"{platform.url}/stations/demo-station/bookings")
    page.wait_for_selector("input.code[data-select]", state="attached")
    page.locator("details").first.evaluate("d => d.open = true")
    field = page.locator("input.code[data-select]").first
    field.click()  # the moved onclick: the whole code selected, ready to copy
    wait_for_function(page, "(() => { const f = document.querySelector('input.code');"
                      " return f.selectionStart === 0 && f.selectionEnd === f.value.length"
                      " && f.value.length > 0; })()")
    shot(page, "platform-station-bookings-csp")
    ctx.close()


def test_the_missing_ticket_page_keeps_its_style(browser: WatchedBrowser,
                                                 live_server: LiveServer) -> None:
    page = browser.new_page()
    response = page.goto(f"{live_server.url}/t/{'A' * 16}")
    assert response is not None and response.status == 404
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).fontSize") == "28px"
    page.close()
