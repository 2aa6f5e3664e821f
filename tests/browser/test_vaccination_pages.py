"""The vaccination pathway in a real Chromium: the console's desk panel with its 三查七对 checks
and a trace code typed the way a keyboard-wedge scanner types it, and the display's
observation board counting down and releasing on the station's clock.

The station runs on a settable clock (tests/support.py FakeClock, handed to the app); its
observation timer is the production one (StationService.start_timer), on that clock.
"""

from __future__ import annotations

import json
from datetime import timedelta

import requests
from browsing import MARKS, shot, staff_console
from support import DISPLAY, KIOSK, FakeClock, LiveServer, wait_until

from contracts.demo import DEMO_TRACE_CODE
from server.store import Store

pytestmark = MARKS

ALL_NO = {"fever": False, "allergy": False, "past_reaction": False, "recent_vaccine": False,
          "pregnancy": False, "immune": False, "illness": False}
FLU = "8612002" + "2026080000001"  # a box of another product than the booked HepB
_n = iter(range(1, 1000))


def booked_and_screened(base: str, store: Store, clock: FakeClock, *, birth_year: int = 1961,
                        product: str = "HepB") -> dict:
    """A booking whose slot is open now, checked in at the kiosk and screened all-no there:
    the ticket waits in the vaccination queue."""
    n = next(_n)
    start = clock.now - timedelta(minutes=5)
    store.upsert_bookings([{
        "id": f"bvax-{n}", "code": f"BVAX-{n:03d}", "station": "demo-station", "service": "V",
        "day": clock.now.date().isoformat(), "slot_start": f"{start:%H:%M}",
        "slot_end": f"{start + timedelta(minutes=30):%H:%M}", "name": "陈静怡",
        "name_masked": "陈*怡", "phone_last4": "0000", "priority": 0, "status": "booked",
        "updated_at": None, "vaccine": json.dumps({"product": product, "dose": 1}),
        "birth_year": birth_year}])
    r = requests.post(f"{base}/api/v1/checkins", json={"code": f"BVAX-{n:03d}"},
                      headers=KIOSK, timeout=5)
    assert r.status_code == 201, r.text
    ticket = r.json()
    r = requests.post(f"{base}/api/v1/tickets/{ticket['id']}/screening",
                      json={"answers": ALL_NO}, headers=KIOSK, timeout=5)
    assert r.json()["stage"] == "vaccination", r.text
    return ticket


def scan(page, code: str) -> None:
    """What a keyboard-wedge scanner does: one key per digit, a few ms apart, then Enter, into
    whatever has the focus."""
    page.keyboard.type(code, delay=4)
    page.keyboard.press("Enter")


def ticket(base: str, ticket_id: str) -> dict:
    r = requests.get(f"{base}/api/v1/tickets/{ticket_id}", headers=KIOSK, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


def test_the_desk_records_a_scanned_dose(browser, live_server: LiveServer, store: Store,
                                         clock: FakeClock) -> None:
    base = live_server.url
    t = booked_and_screened(base, store, clock)
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = staff_console(ctx, base)
    try:
        page.select_option("#counter", "V1")
        page.wait_for_selector(f"#queue tr[data-ticket='{t['id']}']")
        page.click("#call-next")
        page.wait_for_function(
            f"document.getElementById('current-number').textContent === '{t['number']}'")
        page.keyboard.press("s")  # start: the desk's panel opens
        page.wait_for_selector("#trace-code")
        booked = page.locator("#vax-desk .booked").inner_text()
        assert "乙型肝炎疫苗" in booked and "第 1 剂" in booked and "65 岁" in booked, booked

        # the scan before the checks are ticked: not recorded, the nurse is told why
        scan(page, DEMO_TRACE_CODE)
        page.wait_for_function(
            "document.getElementById('vax-message').textContent.indexOf('三查七对') >= 0")
        checks = page.locator("#vax-desk input[data-check]")
        assert [checks.nth(i).get_attribute("data-check") for i in range(checks.count())] == [
            "name", "age", "vaccine", "specification", "dose", "site", "route"]  # 七对's order
        for box in checks.all():
            box.click()  # the focus leaves the code field: the scanner must still land in it

        # another product's box: refused in her language, nothing recorded
        scan(page, FLU)
        page.wait_for_function(
            "document.querySelector('#vax-message.error') && "
            "document.getElementById('vax-message').textContent.indexOf('疫苗不符') >= 0")
        message = page.locator("#vax-message").inner_text()
        assert "四价流感病毒裂解疫苗" in message and "乙型肝炎疫苗" in message, message
        assert store.vaccinations() == []
        assert ticket(base, t["id"])["status"] == "serving"
        shot(page, "console-vaccination", full_page=True)

        # the right box: the field was selected after the refusal, the next scan replaces it
        scan(page, DEMO_TRACE_CODE)
        given = wait_until(lambda: (lambda v: v["status"] == "observing" and v)(
            ticket(base, t["id"])), what="the ticket in observation")
        assert given["observation_ends_at"] == (clock.now + timedelta(minutes=30)).isoformat(
            timespec="seconds")
        [dose] = store.vaccinations()
        assert (dose["trace_code"], dose["product"], dose["lot"], dose["nurse"], dose["site"],
                dose["route"]) == (DEMO_TRACE_CODE, "HepB", "202603A", "demo-nurse",
                                   "left_deltoid", "intramuscular")  # the usual ones first
        state = requests.get(f"{base}/api/v1/state", headers=DISPLAY, timeout=5).json()
        assert [o["number"] for o in state["observing"]] == [t["number"]]
        # the panel says so, and lists the resident in observation with 30 minutes left
        page.wait_for_function(
            "document.getElementById('vax-message').textContent.indexOf('留观') >= 0")
        row = page.locator(f"#vax-observing tr[data-ticket='{t['id']}']")
        row.wait_for()
        assert "30" in row.inner_text(), row.inner_text()
        assert page.locator("#current-number").inner_text() == "—"  # the desk is free again
        shot(page, "console-vaccination-recorded", full_page=True)
    finally:
        ctx.close()
