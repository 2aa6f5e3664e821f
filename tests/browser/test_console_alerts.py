"""A kiosk's printer out of paper reaches a nurse's open console as a red alert at once, and
the alert goes when the paper is back."""

from __future__ import annotations

import requests
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from support import KIOSK, LiveServer

pytestmark = MARKS
HEALTH = {"version": "kiosk-1", "scanner": {"state": "ok"}, "printer": {"state": "ready"}}


def report(base: str, printer: str) -> None:
    requests.post(f"{base}/api/v1/devices/health", headers=KIOSK, timeout=5, json={
        **HEALTH, "printer": {"state": printer}}).raise_for_status()


def test_a_kiosk_out_of_paper_alerts_the_console(browser, live_server: LiveServer) -> None:
    base = live_server.url
    watch = live_server.app.extensions["clinicq.devicewatch"]
    report(base, "ready")
    watch.check()
    ctx = browser.new_context(viewport={"width": 1366, "height": 768})
    page = staff_console(ctx, base)
    wait_for_function(page, "window.Clinicq && document.getElementById('conn').hidden")
    assert page.locator("#device-alerts").is_hidden()
    report(base, "paper_out")
    watch.check()
    page.wait_for_selector("#device-alerts [data-problem=printer_paper_out]")
    assert "打印机缺纸" in page.locator("#device-alerts").inner_text()
    assert "大厅自助机 1" in page.locator("#device-alerts").inner_text()
    shot(page, "console-device-alert")
    assert_clean(page, base, "the console with a kiosk alert")
    report(base, "ready")
    watch.check()
    page.wait_for_selector("#device-alerts", state="hidden")
    ctx.close()
