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
from browsing import MARKS, shot, staff_console, wait_for_function
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
        page.click("#counter-picker button[data-counter=V1]")
        page.wait_for_selector(f"#queue tr[data-ticket='{t['id']}']")
        page.click("#call-next")
        wait_for_function(page,
            f"document.getElementById('current-number').textContent === '{t['number']}'")
        page.keyboard.press("s")  # start: the desk's panel opens
        page.wait_for_selector("#trace-code")
        booked = page.locator("#vax-desk .booked").inner_text()
        assert "乙型肝炎疫苗" in booked and "第 1 剂" in booked and "65 岁" in booked, booked

        # the scan before the checks are ticked: not recorded, the nurse is told why
        scan(page, DEMO_TRACE_CODE)
        wait_for_function(page,
            "document.getElementById('vax-message').textContent.indexOf('三查七对') >= 0")
        checks = page.locator("#vax-desk input[data-check]")
        assert [checks.nth(i).get_attribute("data-check") for i in range(checks.count())] == [
            "name", "age", "vaccine", "specification", "dose", "site", "route"]  # 七对's order
        for box in checks.all():
            box.click()  # the focus leaves the code field: the scanner must still land in it

        # another product's box: refused in her language, nothing recorded
        scan(page, FLU)
        wait_for_function(page,
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
        wait_for_function(page,
            "document.getElementById('vax-message').textContent.indexOf('留观') >= 0")
        row = page.locator(f"#vax-observing tr[data-ticket='{t['id']}']")
        row.wait_for()
        assert "30" in row.inner_text(), row.inner_text()
        assert page.locator("#current-number").inner_text() == "—"  # the desk is free again
        shot(page, "console-vaccination-recorded", full_page=True)
    finally:
        ctx.close()


def nurse_session(base: str) -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": "demo-nurse", "password": "demo-nurse"},
               timeout=5)
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def vaccinated(base: str, nurse: requests.Session, store: Store, clock: FakeClock,
               trace_code: str) -> dict:
    """A ticket screened, called to V1 and given its dose now: in observation."""
    t = booked_and_screened(base, store, clock)
    assert nurse.post(f"{base}/api/v1/counters/V1/call-next", timeout=5).json()["id"] == t["id"]
    r = nurse.post(f"{base}/api/v1/tickets/{t['id']}/vaccinate", timeout=5, json={
        "trace_code": trace_code, "site": "left_deltoid", "route": "intramuscular"})
    assert r.status_code == 200 and r.json()["status"] == "observing", r.text
    return r.json()


def board(page) -> dict[str, str]:
    """The observation board as the room reads it: number → what it says."""
    return page.evaluate("""() => Object.fromEntries(Array.from(
        document.querySelectorAll('#observing li:not(.none)'),
        li => [li.querySelector('b').textContent, li.querySelector('span').textContent]))""")


def overflowing(page) -> list[str]:
    """Texts of the board that do not fit their row (a TV does not scroll, nor wrap a number)."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
        '#observing li, #observing li > *, .obs-hint, .observation h2'))
        .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right >
                     e.closest('.observation').getBoundingClientRect().right)
        .map(e => e.textContent)""")


def wait_for_board(page, expected: dict[str, str]) -> None:
    wait_until(lambda: board(page) == expected, 10, what=lambda: f"board {board(page)}")


def test_the_board_counts_down_and_releases_on_the_stations_clock(
        browser, app, live_server: LiveServer, store: Store, clock: FakeClock) -> None:
    base, station = live_server.url, app.extensions["clinicq"].station
    station.start_timer(interval=0.05)  # the production timer, on the station's (test) clock
    nurse = nurse_session(base)
    box = iter(range(123, 200))
    first = vaccinated(base, nurse, store, clock, f"8612001{2026030000000 + next(box)}")
    clock.advance(minutes=4)
    second = vaccinated(base, nurse, store, clock, f"8612001{2026030000000 + next(box)}")
    clock.advance(minutes=6)
    third = vaccinated(base, nurse, store, clock, f"8612001{2026030000000 + next(box)}")
    clock.advance(minutes=2)  # 09:12: ends at 09:30, 09:34 and 09:40
    a, b, c = first["number"], second["number"], third["number"]

    ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = ctx.new_page()
    # the TV's own clock is 3 h 17 min off the station's, and its timers are the test's
    page.clock.install(time=clock.now + timedelta(hours=3, minutes=17))
    try:
        page.goto(f"{base}/display#token=demo-display-token")
        wait_for_board(page, {a: "18 分钟", b: "22 分钟", c: "28 分钟"})
        assert page.locator("#obs-count").inner_text() == "(3)"
        assert page.locator("#clock").inner_text() == "09:12"  # the station's time, not the TV's
        assert overflowing(page) == []
        shot(page, "display-observation")

        # someone sets the TV's clock an hour forward: the board keeps the station's time
        page.clock.set_system_time(clock.now + timedelta(hours=4, minutes=17))
        page.clock.run_for(6000)  # the board's own redraw (every 5 s) runs
        wait_for_board(page, {a: "18 分钟", b: "22 分钟", c: "28 分钟"})
        assert page.locator("#clock").inner_text() == "09:12"

        # four minutes pass for both, with no message between: the page counts down by itself
        clock.advance(minutes=4)
        page.clock.run_for("04:00")
        wait_for_board(page, {a: "14 分钟", b: "18 分钟", c: "24 分钟"})

        # the TV loses the network; meanwhile the first two end and are released
        ctx.set_offline(True)
        page.wait_for_selector("#conn:not([hidden])", timeout=10000)
        clock.advance(minutes=19)  # 09:35
        wait_until(lambda: [requests.get(f"{base}/api/v1/tickets/{t['id']}", headers=KIOSK,
                                         timeout=5).json()["status"] for t in (first, second)]
                   == ["released", "released"], what="the timer releasing both")
        released = [e for e in store.events() if e["type"] == "observation.released"]
        assert [json.loads(e["ticket"])["number"] for e in released] == [a, b]
        # back online: the snapshot it asks for shows who is still observed, with the right time
        ctx.set_offline(False)

        def reconnected() -> bool:
            page.clock.run_for(1000)  # socket.io's reconnection timers run on the TV's clock
            return page.locator("#conn").is_hidden()
        wait_until(reconnected, 20, every=0.1, what="the display reconnected")
        wait_for_board(page, {c: "5 分钟"})
        assert page.locator("#obs-count").inner_text() == "(1)"

        # the last one's time is up while the TV watches: released live, called as free to go
        clock.advance(minutes=5, seconds=1)
        wait_for_function(page,
            f"(document.querySelector('#flash:not([hidden]) .fnum') || {{}}).textContent === '{c}'",
            timeout=5000)
        assert "可以离开" in page.locator("#flash .fto").inner_text()
        wait_for_board(page, {})
        assert page.locator("#obs-count").inner_text() == ""
        assert page.locator("#observing li.none").inner_text() == "暂无留观人员"
        assert requests.get(f"{base}/api/v1/tickets/{third['id']}", headers=KIOSK,
                            timeout=5).json()["status"] == "released"
        shot(page, "display-observation-released")
    finally:
        ctx.close()
        station.stop_timer()
