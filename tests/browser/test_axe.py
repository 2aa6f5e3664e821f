"""axe-core on the console, the display and the phone page at the sizes they are used, with
screenshots in test-output/ (console-*, display-axe, phone-axe)."""

from __future__ import annotations

import pytest
import requests
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from support import KIOSK, FakeClock, LiveServer
from test_vaccination_pages import booked_and_screened

from server.store import Store

pytestmark = MARKS


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_console_is_axe_clean_and_fits(browser, live_server: LiveServer, store: Store,
                                       clock: FakeClock, size: tuple[int, int]) -> None:
    base = live_server.url
    w, h = size
    for _ in range(3):
        requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK, timeout=5)
    ctx = browser.new_context(viewport={"width": w, "height": h})
    page = staff_console(ctx, base)
    try:
        # first visit: no counter chosen, every action off, the picker asks
        page.wait_for_selector("#counter-picker.unset")
        assert page.locator("#call-next").is_disabled()
        shot(page, f"console-pick-counter-{w}x{h}")
        assert_clean(page, base, f"console before a counter is chosen at {w}x{h}")

        page.click("#counter-picker button[data-counter=A1]")
        page.wait_for_selector("#queue tr[data-ticket]")
        assert page.locator("button[data-action=complete]").is_disabled()
        page.click("#call-next")
        wait_for_function(page, "document.getElementById('current-number').textContent !== '—'")
        wait_for_function(page, "!document.querySelector('button[data-action=start]').disabled")
        assert page.locator("button[data-action=complete]").is_disabled()
        shot(page, f"console-with-ticket-{w}x{h}")
        assert_clean(page, base, f"console with a called ticket at {w}x{h}")
        # the counter is remembered by this browser
        page.reload()
        page.wait_for_selector("#counter-picker button[data-counter=A1][aria-pressed=true]")

        t = booked_and_screened(base, store, clock)
        page.click("#counter-picker button[data-counter=V1]")
        page.wait_for_selector(f"#queue tr[data-ticket='{t['id']}']")
        page.click("#call-next")
        wait_for_function(page,
            f"document.getElementById('current-number').textContent === '{t['number']}'")
        page.keyboard.press("s")
        page.wait_for_selector("#trace-code")
        shot(page, f"console-vaccination-{w}x{h}")
        assert_clean(page, base, f"console with the vaccination panel at {w}x{h}")
    finally:
        ctx.close()


def test_display_and_phone_are_axe_clean(browser, live_server: LiveServer) -> None:
    base = live_server.url
    t = requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=KIOSK,
                      timeout=5).json()
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    page.goto(f"{base}/display#token=demo-display-token")
    page.wait_for_selector(".service[data-service=V] .next span")
    shot(page, "display-axe")
    assert_clean(page, base, "the display")
    ctx.close()
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    page.goto(f"{base}/t/{t['code']}")
    page.wait_for_selector("#num")
    shot(page, "phone-axe")
    assert_clean(page, base, "the phone page")
    ctx.close()


def test_an_expired_session_asks_to_log_in_again(browser, live_server: LiveServer) -> None:
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = staff_console(ctx, base)
    try:
        page.click("#counter-picker button[data-counter=V1]")
        ctx.clear_cookies()  # what a night's idle timeout leaves: no session at the server
        requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=KIOSK, timeout=5)
        wait_for_function(page, "!document.getElementById('call-next').disabled")
        page.click("#call-next")
        page.wait_for_selector("#expired button")
        shot(page, "console-session-expired")
        page.click("#expired button")
        page.wait_for_selector("#login-form")
    finally:
        ctx.close()
