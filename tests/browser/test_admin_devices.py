"""The admin's devices page in Chromium: a new display shows a code, the admin pairs it from
the page, the display starts and reports in (online, sound), the board is axe-clean; revoking
it from the page sends the display straight back to its pairing screen."""

from __future__ import annotations

import re

import pytest
import requests
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from support import KIOSK, LiveServer

pytestmark = MARKS
CODE = re.compile(r"^[A-Z0-9]{3}-[A-Z0-9]{3}$")


def new_display(browser, base: str):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})  # its own storage
    page = ctx.new_page()
    page.goto(f"{base}/display")
    wait_for_function(page, "/^[A-Z0-9]{3}-[A-Z0-9]{3}$/.test("
                           "document.querySelector('#pairing-code').textContent)")
    return ctx, page


@pytest.mark.parametrize("size", [(1366, 768)])
def test_an_admin_pairs_and_revokes_a_display_from_the_devices_page(
        browser, live_server: LiveServer, size: tuple[int, int]) -> None:
    base = live_server.url
    tv_ctx, tv = new_display(browser, base)
    code = tv.locator("#pairing-code").inner_text()
    assert CODE.match(code)
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    staff_console(ctx, base, "demo-admin").close()
    page = ctx.new_page()
    page.goto(f"{base}/admin/devices")
    page.wait_for_selector("#devices tr[data-device=kiosk-1]")  # the demo's own
    page.fill("#pair-code", code.lower().replace("-", " "))  # as typed in a hurry
    page.fill("#pair-name", "二楼候诊屏")
    page.check("input[name=kind][value=display]")
    page.click("#pair-form button[type=submit]")
    wait_for_function(page, "document.getElementById('pair-message').textContent"
                           ".includes('二楼候诊屏')")
    tv.wait_for_selector("#pairing", state="hidden", timeout=15000)
    row = "#devices tr:has(td:text-is('二楼候诊屏'))"
    page.wait_for_selector(f"{row} .state.online", timeout=20000)  # it reported in
    requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK, timeout=5)
    shot(page, "admin-devices")
    assert_clean(page, base, "the admin devices page")
    # a wrong code: said plainly, nothing paired
    page.fill("#pair-code", "AAA-AAA")
    page.fill("#pair-name", "x")
    page.click("#pair-form button[type=submit]")
    page.wait_for_selector("#pair-message.error")
    assert "配对码" in page.locator("#pair-message").inner_text()
    # revoke it: the TV is back to its pairing screen at once
    page.on("dialog", lambda d: d.accept())
    page.click(f"{row} button.danger")
    page.wait_for_selector(f"{row} .state.revoked")
    tv.wait_for_selector("#pairing:not([hidden])", timeout=15000)
    wait_for_function(tv, "/^[A-Z0-9]{3}-[A-Z0-9]{3}$/.test("
                         "document.querySelector('#pairing-code').textContent) && "
                         f"document.querySelector('#pairing-code').textContent !== '{code}'")
    tv_ctx.close()
    ctx.close()


def test_a_nurse_is_refused_the_admin_pages(browser, live_server: LiveServer) -> None:
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    staff_console(ctx, live_server.url).close()
    page = ctx.new_page()
    r = page.goto(f"{live_server.url}/admin/devices")
    assert r is not None and r.status == 403
    assert page.locator("#pair-form").count() == 0
    assert "管理员" in page.locator("main").inner_text()
    ctx.close()
