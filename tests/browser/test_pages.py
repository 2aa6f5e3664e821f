"""The three pages in a real Chromium (Playwright): console calls, display shows, kiosk issues.

Screenshots go to test-output/ as evidence of what a person sees.
"""

from __future__ import annotations

from pathlib import Path

import requests
from browsing import MARKS, shot, staff_console, wait_for_function
from support import KIOSK, LiveServer, StationProcess, free_port

pytestmark = MARKS


def test_nurse_calls_and_display_shows_it(browser, live_server: LiveServer) -> None:
    base = live_server.url
    requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=KIOSK, timeout=5)
    requests.post(f"{base}/api/v1/tickets", json={"service": "V"}, headers=KIOSK, timeout=5)

    display_ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    display = display_ctx.new_page()
    display.goto(f"{base}/display#token=demo-display-token")
    display.wait_for_selector(".service[data-service=V] .next span")
    assert display.locator(".service[data-service=V] .next span").first.inner_text() == "V001"

    console_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    console = staff_console(console_ctx, base)
    console.click("#counter-picker button[data-counter=V1]")
    console.wait_for_selector("#queue tr[data-ticket]")
    console.click("#call-next")
    wait_for_function(console,
        "document.getElementById('current-number').textContent === 'V001'", timeout=2000)

    # the display shows the call within a second, highlighted
    display.wait_for_selector(".counter[data-counter=V1].fresh .cnum", timeout=1000)
    assert display.locator(".counter[data-counter=V1] .cnum").inner_text() == "V001"
    assert display.locator("#flash .fnum").inner_text() == "V001"
    shot(display, "display-after-call")
    shot(console, "console-after-call")

    # keyboard: S starts, Space completes-and-calls the next one
    console.keyboard.press("s")
    wait_for_function(console,
        "document.getElementById('current-status').textContent.length > 0")
    console.keyboard.press(" ")
    wait_for_function(console,
        "document.getElementById('current-number').textContent === 'V002'", timeout=2000)
    wait_for_function(display,
        "document.querySelector('.counter[data-counter=V1] .cnum').textContent === 'V002'",
        timeout=1000)
    # P reprints the counter's ticket; no kiosk agent runs here, and the console says so
    console.keyboard.press("p")
    wait_for_function(console,
        "document.getElementById('message').textContent.indexOf('补打') >= 0", timeout=2000)
    display_ctx.close()
    console_ctx.close()


def test_console_checks_in_a_family_found_by_name(browser, live_server: LiveServer) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff_console(ctx, live_server.url)
    page.fill("#assist-q", "王")  # two of today's demo bookings
    page.press("#assist-q", "Enter")
    page.wait_for_selector("#assist-results input[type=checkbox]")
    boxes = page.locator("#assist-results input[type=checkbox]:not([disabled])")
    assert boxes.count() == 2
    assert page.locator("#family-checkin").is_disabled()
    boxes.nth(0).check()
    boxes.nth(1).check()
    page.click("#family-checkin")
    page.wait_for_selector("#family-result:not(:empty)")
    numbers = page.locator("#family-result").inner_text().split()
    assert sorted(numbers) == ["B001", "V001"]
    page.wait_for_selector("#assist-results .num")
    shot(page, "console-family-checkin")
    ctx.close()


def kiosk_walk_in_to_questions(ctx, base: str):  # noqa: ANN001, ANN201 (Playwright)
    """The kiosk page, a vaccination walk-in taken with no priority: its health questions."""
    page = ctx.new_page()
    page.goto(f"{base}/kiosk#token=demo-kiosk-token")
    page.click("button.walkin[data-service=V]")
    # the optional priority choice (70+, disabled, pregnant): none of them
    page.wait_for_selector("button.prio.none:enabled")
    page.click("button.prio.none")
    page.wait_for_selector("#screen:not([hidden])")
    return page


def test_kiosk_walk_in_shows_the_number(browser, live_server: LiveServer) -> None:
    ctx = browser.new_context(viewport={"width": 1280, "height": 1024})
    # a vaccination ticket starts at screening: the questions first, skipped to the desk here
    page = kiosk_walk_in_to_questions(ctx, live_server.url)
    page.click("#q-skip")
    page.wait_for_selector("#r-number:not(:empty)")
    assert page.locator("#r-number").inner_text() == "V001"
    assert "1" in page.locator("#r-position").inner_text()
    shot(page, "kiosk-walk-in")
    # a typed booking code, then a refusal in plain words
    page.click("#done")
    page.fill("#code", "DEMO-V001")
    page.press("#code", "Enter")
    page.wait_for_selector("#screen:not([hidden])")
    page.click("#q-skip")
    wait_for_function(page, "document.getElementById('r-number').textContent === 'V002'")
    page.click("#done")
    page.fill("#code", "NOT-A-BOOKING")
    page.press("#code", "Enter")
    page.wait_for_selector("#r-error:not(:empty)")
    assert "预约" in page.locator("#r-error").inner_text()
    shot(page, "kiosk-refusal")
    ctx.close()


def test_kiosk_all_no_answers_send_the_resident_to_the_vaccination_desk(
        browser, live_server: LiveServer) -> None:
    """Every health question answered no at the kiosk skips the screening desk: the screen says
    to wait for the vaccination call, not for screening."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 1024})
    page = kiosk_walk_in_to_questions(ctx, live_server.url)
    while page.locator("#screen").is_visible():
        question = page.locator("#screen").inner_text()
        page.click("#q-no")
        wait_for_function(page,
            "q => document.getElementById('screen').hidden"
            " || document.getElementById('screen').innerText !== q", arg=question)
    page.wait_for_selector("#r-number:not(:empty)")
    note = page.locator("#r-note").inner_text()
    assert "接种" in note and "预检台" not in note, note
    shot(page, "kiosk-screened-all-no")
    ctx.close()


def test_display_recovers_after_the_server_restarts(browser, tmp_path: Path) -> None:
    """A real restart: the display notices, reconnects by itself, and shows the state the
    restarted server rebuilt from its database, plus what happened after."""
    database, port = tmp_path / "station.db", free_port()
    station = StationProcess(database, port)
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    try:
        requests.post(f"{station.url}/api/v1/tickets", json={"service": "V"}, headers=KIOSK,
                      timeout=5)
        page.goto(f"{station.url}/display#token=demo-display-token")
        page.wait_for_selector(".service[data-service=V] .next span")
        station.stop()
        page.wait_for_selector("#conn:not([hidden])", timeout=10000)
        shot(page, "display-server-down")
        station = StationProcess(database, port)
        requests.post(f"{station.url}/api/v1/tickets", json={"service": "A"}, headers=KIOSK,
                      timeout=5)
        page.wait_for_selector("#conn", state="hidden", timeout=15000)
        wait_for_function(page,
            "(document.querySelector('.service[data-service=A] .next span') || {}).textContent"
            " === 'A001'", timeout=15000)
        assert page.locator(".service[data-service=V] .next span").first.inner_text() == "V001"
        shot(page, "display-after-restart")
    finally:
        ctx.close()
        station.stop()
