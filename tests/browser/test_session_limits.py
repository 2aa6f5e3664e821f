"""In a real Chromium, on the shipped session timeout and kiosk limit: a console left idle
past its session asks to log in again (on its next action, and by itself once the station
closes its live connection), and a kiosk taking numbers too fast tells the resident to wait."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from flask import Flask
from support import KIOSK, FakeClock, LiveServer, station_settings

from server import config
from server.store import Store
from server.web import create_app

pytestmark = MARKS


@pytest.fixture
def app(store: Store, clock: FakeClock) -> Flask:
    shipped = config.load()
    settings = station_settings(
        database=":memory:", demo=True, session_idle_minutes=shipped.session_idle_minutes,
        session_max_hours=shipped.session_max_hours,
        kiosk_checkins_per_minute=shipped.kiosk_checkins_per_minute,
        kiosk_checkin_burst=shipped.kiosk_checkin_burst)
    return create_app(settings, store=store, clock=clock, testing=True)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


def test_an_idle_console_asks_to_log_in_again(browser, app: Flask, live_server: LiveServer,
                                              clock: FakeClock) -> None:
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = staff_console(ctx, base)
    try:
        page.click("#counter-picker button[data-counter=A1]")
        clock.advance(minutes=31)  # the nurse walked away
        page.click("#walkin button[data-walkin=A]")
        page.wait_for_selector("#expired [role=alertdialog]")
        assert page.locator("#expired p").inner_text() == "登录已过期，请重新登录。"
        assert page.locator("#message").inner_text() == "登录已过期，请重新登录。"
        # nothing was done on the ended session
        state = requests.get(f"{base}/api/v1/state", headers=KIOSK, timeout=5).json()
        assert sum(len(s["tickets"]) for s in state["services"]) == 0
        shot(page, "console-session-idle")
        assert_clean(page, base, "the idle console's prompt")
        page.click("#expired button")
        page.wait_for_selector("#login-form")
    finally:
        ctx.close()


def test_an_untouched_console_is_told_when_its_session_is_swept(
        browser, app: Flask, live_server: LiveServer, clock: FakeClock) -> None:
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = staff_console(ctx, base)
    try:
        wait_for_function(page, "document.getElementById('conn').hidden")
        clock.advance(minutes=31)
        # the sweeper thread's round, done here; the thread itself (every 30 s) may come first
        app.extensions["clinicq.sessions"].sweep()
        # the live connection closes, its reconnection is refused: the prompt, untouched
        page.wait_for_selector("#expired [role=alertdialog]", timeout=10_000)
        assert page.evaluate("document.activeElement.textContent") == "重新登录"
    finally:
        ctx.close()


def test_a_kiosk_taking_numbers_too_fast_tells_the_resident_to_wait(
        browser, live_server: LiveServer, clock: FakeClock) -> None:
    base = live_server.url
    for _ in range(20):  # a burst from this kiosk's token (a stuck scanner, a script)
        r = requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK,
                          timeout=5)
        assert r.status_code == 201
    ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    page = ctx.new_page()
    try:
        page.goto(f"{base}/kiosk#token=demo-kiosk-token")
        page.wait_for_selector("#idle:not([hidden])")
        page.click("button.walkin[data-service=A]")
        page.wait_for_selector("button.prio.none:enabled")
        page.click("button.prio.none")
        page.wait_for_selector("#result-error:not([hidden])")
        assert page.locator("#r-error").inner_text() == "现在取号的人比较多，请等 1 秒再试一次。"
        assert page.locator("#r-error-en").inner_text().startswith(
            "Many people are taking numbers right now.")
        shot(page, "kiosk-too-many-requests")
        assert_clean(page, base, "the kiosk's please-wait")
        page.click("#done")
        clock.advance(seconds=1)  # a moment later it works again
        page.click("button.walkin[data-service=A]")
        page.wait_for_selector("button.prio.none:enabled")
        page.click("button.prio.none")
        page.wait_for_selector("#r-number:not(:empty)")
        assert page.locator("#r-number").inner_text() == "A021"
    finally:
        ctx.close()
