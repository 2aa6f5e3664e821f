"""The kiosk screen at the sizes kiosks stand in (portrait 1080x1920, landscape 1280x800, and
1024x768), in a real Chromium: attract, priority choice, confirmation and error screens, axe
clean, each kept as a screenshot in test-output/."""

from __future__ import annotations

import pytest
import requests
from axe import assert_axe_clean
from browsing import MARKS, shot, wait_for_function
from support import LiveServer, wait_until

pytestmark = MARKS

SIZES = {"portrait": (1080, 1920), "landscape": (1280, 800), "small": (1024, 768)}


@pytest.mark.parametrize("size", SIZES)
def test_kiosk_screens_at_each_size(browser, live_server: LiveServer, size: str) -> None:
    width, height = SIZES[size]
    base = live_server.url
    ctx = browser.new_context(viewport={"width": width, "height": height})
    page = ctx.new_page()
    page.goto(f"{base}/kiosk#token=demo-kiosk-token")
    page.wait_for_selector("#idle:not([hidden])")
    assert_axe_clean(page, base, f"attract {size}")
    shot(page, f"kiosk-attract-{size}")
    for sel in (".langs a", "button.walkin", "#scan-form button"):
        box = page.locator(sel).first.bounding_box()
        assert box and box["height"] >= 48 and box["width"] >= 48, sel

    # walk-in: the priority choice, then the number
    page.click("button.walkin[data-service=A]")
    page.wait_for_selector("#priority:not([hidden])")
    assert_axe_clean(page, base, f"priority {size}")
    shot(page, f"kiosk-priority-{size}")
    page.wait_for_selector("button.prio.none:enabled")  # after the walk-in tap's echo
    page.click("button.prio.none")
    page.wait_for_selector("#r-number:not(:empty)")
    page.click("#done")

    # a typed booking code in lower case with spaces: the confirmation says whose it is
    page.fill("#code", "  demo-b009 \t")
    page.press("#code", "Enter")
    page.wait_for_selector("#result-ok:not([hidden])")
    assert page.locator("#r-who").is_visible()
    assert page.locator("#r-slot").inner_text()
    assert "返回" in page.locator("#done").inner_text()
    assert_axe_clean(page, base, f"confirmation {size}")
    shot(page, f"kiosk-confirmation-{size}")
    page.click("#done")

    # too early: said as a clock time, no arithmetic ("请 10:30 以后再来签到")
    page.fill("#code", "DEMO-A002")
    page.press("#code", "Enter")
    page.wait_for_selector("#result-error:not([hidden])")
    assert "10:30 以后再来" in page.locator("#r-error").inner_text()
    assert "返回" in page.locator("#done").inner_text()
    wait_for_function(page, "document.getElementById('countdown').textContent.length > 0")
    assert_axe_clean(page, base, f"error {size}")
    shot(page, f"kiosk-error-{size}")
    ctx.close()


def test_five_taps_in_a_second_make_one_ticket(browser, live_server: LiveServer) -> None:
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    page = ctx.new_page()
    page.goto(f"{base}/kiosk#token=demo-kiosk-token")
    page.wait_for_selector("#idle:not([hidden])")
    page.click("button.walkin[data-service=A]")
    page.wait_for_selector("button.prio.none:enabled")
    for _ in range(5):
        page.locator("button.prio.none").dispatch_event("click")
    page.wait_for_selector("#r-number:not(:empty)")
    r = requests.post(f"{base}/api/v1/tickets", json={"service": "A"},
                      headers={"Authorization": "Bearer demo-kiosk-token"}, timeout=5)
    assert r.json()["number"] == "A002"  # the five taps made A001 only
    ctx.close()


def test_english_mode_and_not_paired(browser, live_server: LiveServer) -> None:
    base = live_server.url
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    page.goto(f"{base}/kiosk?lang=en#token=demo-kiosk-token")
    page.wait_for_selector("#idle:not([hidden])")
    page.fill("#code", "NOT-A-BOOKING")
    page.press("#code", "Enter")
    page.wait_for_selector("#result-error:not([hidden])")
    text = page.locator("#result").inner_text()
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text), text
    shot(page, "kiosk-error-english")
    ctx.close()
    # a fresh browser (the token is remembered per browser) opened without #token=
    ctx = browser.new_context(viewport={"width": 1080, "height": 1920})
    unpaired = ctx.new_page()
    unpaired.goto(f"{base}/kiosk")
    unpaired.wait_for_selector("#unpaired:not([hidden])")
    wait_until(lambda: unpaired.locator("#conn").is_hidden(), 3)
    assert_axe_clean(unpaired, base, "not paired")
    shot(unpaired, "kiosk-not-paired")
    ctx.close()
