"""The nurse's console as she uses it all day, in a real Chromium: one 1366×768 screen with the
ticket at her counter and its actions, the queue, walk-ins, no-shows and the booking search;
the desk's buttons (walk-in, Restore, Undo, the last recall), a session that ended, a break,
and a counter another nurse holds.

Screenshots in test-output/ (console-1366*.png, console-1920*.png) are the evidence.
"""

from __future__ import annotations

import json
from datetime import timedelta

import requests
from axe import assert_clean
from browsing import MARKS, shot, staff_console, wait_for_function
from support import KIOSK, FakeClock, LiveServer

from server.store import Store

pytestmark = MARKS

NAMES = ["张伟", "李秀英", "王芳", "刘洋", "陈静怡", "杨丽", "赵国强", "黄敏"]
ALL_NO = {"fever": False, "allergy": False, "past_reaction": False, "recent_vaccine": False,
          "pregnancy": False, "immune": False, "illness": False}


def nurse(base: str, username: str = "demo-nurse") -> requests.Session:
    s = requests.Session()
    r = s.post(f"{base}/api/v1/login", json={"username": username, "password": username})
    s.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    return s


def book(store: Store, clock: FakeClock, service: str, names: list[str],
         tag: str) -> list[str]:
    """Today's bookings, slots open now, with full names: their codes."""
    start = clock.now - timedelta(minutes=5)
    rows = [{
        "id": f"b{tag}-{i}", "code": f"B{tag}-{i:03d}", "station": "demo-station",
        "service": service, "day": clock.now.date().isoformat(),
        "slot_start": f"{start:%H:%M}", "slot_end": f"{start + timedelta(minutes=30):%H:%M}",
        "name": name, "name_masked": name[0] + "*" + (name[2:] if len(name) > 2 else ""),
        "phone_last4": f"{1000 + i:04d}", "priority": int(i == 2), "status": "booked",
        "updated_at": None, "birth_year": 1950 + 5 * i,
        "vaccine": json.dumps({"product": "HepB", "dose": 1}) if service == "V" else None,
    } for i, name in enumerate(names)]
    store.upsert_bookings(rows)
    return [r["code"] for r in rows]


def busy_day(base: str, store: Store, clock: FakeClock, service: str, counter: str) -> dict:
    """A realistic morning at `counter`: two residents missed their call (no-shows), then six
    booked residents and four walk-ins wait; a screened vaccination ticket for a desk."""
    s = nurse(base)
    codes = book(store, clock, service, NAMES[:8], service)
    missed = []

    def check_in(code: str) -> None:
        r = requests.post(f"{base}/api/v1/checkins", json={"code": code}, headers=KIOSK)
        assert r.status_code == 201, r.text
        if service == "V":  # screened at the kiosk: waiting for the vaccination desk
            requests.post(f"{base}/api/v1/tickets/{r.json()['id']}/screening",
                          json={"answers": ALL_NO}, headers=KIOSK)

    for code in codes[:2]:
        check_in(code)
    for _ in range(2):
        called = s.post(f"{base}/api/v1/counters/{counter}/call-next").json()
        s.post(f"{base}/api/v1/tickets/{called['id']}/no-show", json={"counter": counter})
        missed.append(called)
    for code in codes[2:]:
        check_in(code)
    for _ in range(4):
        requests.post(f"{base}/api/v1/tickets", json={"service": service}, headers=KIOSK)
    return {"nurse": s, "missed": missed}


def on_screen(page, selector: str) -> dict:
    return page.evaluate("""(sel) => { const r = document.querySelector(sel)
        .getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left,
        right: r.right, height: r.height, width: r.width}; }""", selector)


def assert_one_screen(page, width: int, height: int) -> None:
    """Nothing scrolls the page; every part the nurse needs is inside the window."""
    size = page.evaluate("[document.documentElement.scrollWidth,"
                         " document.documentElement.scrollHeight]")
    assert size[0] <= width and size[1] <= height, f"the page scrolls: {size}"
    for part in ("#current", "#call-next", "#undo", "#pause", "#transfer-to", "#queue",
                 "#walkin", "#noshows", "#assist-form", "#assist-results", "#kiosk-status"):
        box = on_screen(page, part)
        assert box["height"] > 0 and 0 <= box["top"] and box["bottom"] <= height + 0.5, \
            (part, box)
        assert 0 <= box["left"] and box["right"] <= width + 0.5, (part, box)
    # a table's headers on one line each
    wraps = page.evaluate("""() => [...document.querySelectorAll('.console th')]
        .filter(th => th.offsetParent && !th.querySelector('.visually-hidden'))
        .filter(th => { const r = document.createRange(); r.selectNodeContents(th);
                        return r.getClientRects().length > 1; })
        .map(th => th.textContent)""")
    assert wraps == [], f"headers wrap: {wraps}"


def rows(page, body: str, n: int) -> None:
    """Wait until the table body `body` lists `n` tickets."""
    wait_for_function(page, "([sel, n]) => document.querySelectorAll(sel + ' tr[data-ticket]')"
                           ".length === n", arg=[body, n], timeout=5000)


def search(page, text: str) -> None:
    page.fill("#assist-q", text)
    page.press("#assist-q", "Enter")
    page.wait_for_selector("#assist-results tr")


def test_a_clinic_counter_fits_one_screen(browser, live_server: LiveServer, store: Store,
                                          clock: FakeClock) -> None:
    base = live_server.url
    day = busy_day(base, store, clock, "A", "A1")
    missed = {t["number"]: t["name"] for t in day["missed"]}
    for width, height in ((1366, 768), (1920, 1080)):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        page = staff_console(ctx, base)
        try:
            page.click("#counter-picker button[data-counter=A1]")
            rows(page, "#queue", 10 if width == 1366 else 9)
            rows(page, "#noshows", 2)
            search(page, "张")
            if width == 1920:  # the same, on a big screen, with A003 at the counter
                shot(page, f"console-{width}")
                assert_one_screen(page, width, height)
                assert_clean(page, base, f"the console at A1, {width}×{height}")
                continue
            # staff see the full names, and the service by its name, not its code
            queue = page.locator("#queue").inner_text()
            waiting = set(NAMES) - set(missed.values()) - {None}
            assert all(name in queue for name in waiting) and not any(
                name in queue for name in missed.values()), (missed, queue)
            assert sorted(missed) == sorted(page.locator("#noshows td.num").all_inner_texts())
            found = page.locator("#assist-results").inner_text()
            assert "张伟" in found and "门诊" in found and "\tA\t" not in found, found
            page.click("#call-next")
            wait_for_function(page,
                "document.getElementById('current-number').textContent === 'A003'")
            assert page.locator("#current-name").inner_text() == "王芳"
            assert page.locator("#vax").is_hidden()  # no vaccination at a consulting room
            shot(page, f"console-{width}")
            assert_one_screen(page, width, height)
            assert_clean(page, base, f"the console at A1, {width}×{height}")
            # in English the words are longer: still one screen, the services by their names
            page.goto(f"{base}/console?lang=en")
            rows(page, "#queue", 9)
            rows(page, "#noshows", 2)
            search(page, "张")
            assert "Doctor visit" in page.locator("#assist-results").inner_text()
            assert page.locator("#current-name").inner_text() == "王芳"
            shot(page, f"console-{width}-en")
            assert_one_screen(page, width, height)
        finally:
            ctx.close()


def test_a_vaccination_counter_fits_one_screen(browser, live_server: LiveServer, store: Store,
                                               clock: FakeClock) -> None:
    base = live_server.url
    s = busy_day(base, store, clock, "V", "V1")["nurse"]
    for width, height in ((1366, 768), (1920, 1080)):
        ctx = browser.new_context(viewport={"width": width, "height": height})
        page = staff_console(ctx, base)
        try:
            page.click("#counter-picker button[data-counter=V1]")
            rows(page, "#noshows", 2)
            if width == 1366:
                # the first booked resident at the desk, screened: the 三查七对 panel
                called = s.post(f"{base}/api/v1/counters/V1/call-next").json()
                s.post(f"{base}/api/v1/tickets/{called['id']}/start", json={"counter": "V1"})
            page.wait_for_selector("#trace-code")
            search(page, "黄")
            assert page.locator("#vax").is_visible()
            shot(page, f"console-{width}-vaccination")
            assert_one_screen(page, width, height)
            box = on_screen(page, "#trace-code")
            assert box["bottom"] <= height, box
            assert_clean(page, base, f"the console at V1, {width}×{height}")
        finally:
            ctx.close()


def message(page, text: str) -> str:
    """Wait for the desk's message line to say `text`; its whole text."""
    wait_for_function(page, "(t) => document.getElementById('message').textContent"
                           ".indexOf(t) >= 0", arg=text, timeout=5000)
    return page.locator("#message").inner_text()


def at_counter(browser, base: str, counter: str, username: str = "demo-nurse",
               size: tuple[int, int] = (1366, 768)):
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = staff_console(ctx, base, username)
    page.click(f"#counter-picker button[data-counter={counter}]")
    wait_for_function(page, "document.getElementById('current-status').textContent !== ''")
    return ctx, page


def queued(page) -> list[str]:
    return page.locator("#queue td.num").all_inner_texts()


def test_walk_in_restore_and_undo_from_the_desk(browser, live_server: LiveServer) -> None:
    base = live_server.url
    ctx, page = at_counter(browser, base, "A1")
    try:
        # a walk-in for the resident at the desk: its number said, and in the queue
        page.click("#walkin button[data-walkin=A]")
        assert message(page, "已发现场号").startswith("A001")
        wait_for_function(page, "document.querySelector('#queue td.num') &&"
                               " document.querySelector('#queue td.num').textContent === 'A001'")
        page.click("#walkin button[data-walkin=A]")
        message(page, "A002 · 已发现场号")
        assert queued(page) == ["A001", "A002"]

        # called, missed: in the no-show list; Restore puts it back with its number
        page.click("#call-next")
        wait_for_function(page, "document.getElementById('current-number').textContent"
                               " === 'A001'")
        page.click("button[data-action=no-show]")
        rows(page, "#noshows", 1)
        assert queued(page) == ["A002"]
        page.click("#noshows button[aria-label='恢复排队 A001']")
        message(page, "A001 · 已按原号码恢复排队")
        wait_for_function(page, "document.querySelectorAll('#queue td.num').length === 2")
        assert "A001" in queued(page)
        rows(page, "#noshows", 0)
        assert page.locator("#noshows").inner_text() == "今日暂无过号"

        # undo says what it undid: the call of A00x is taken back, the ticket waits again
        page.click("#call-next")
        wait_for_function(page, "document.getElementById('current-number').textContent"
                               " !== '—'")
        called = page.locator("#current-number").inner_text()
        page.click("#undo")
        said = message(page, "已撤销")
        assert said == f"已撤销: {called} 等候中", said
        wait_for_function(page, "document.getElementById('current-number').textContent"
                               " === '—'")
        assert sorted(queued(page)) == ["A001", "A002"]
        shot(page, "console-restore-undo")
    finally:
        ctx.close()


def test_the_last_recall_says_the_resident_is_a_no_show(browser,
                                                        live_server: LiveServer) -> None:
    base = live_server.url
    requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    ctx, page = at_counter(browser, base, "A1")
    try:
        page.click("#call-next")
        wait_for_function(page, "document.getElementById('current-number').textContent"
                               " === 'A001'")
        for n in (2, 3):  # the test station allows two recalls
            page.click("button[data-action=recall]")
            wait_for_function(page, f"document.getElementById('current-status').textContent"
                                   f".indexOf('×{n}') >= 0")
        page.click("button[data-action=recall]")  # one more: no more calls, a no-show
        assert message(page, "已达最多呼叫次数") == "A001 · 已达最多呼叫次数，记为过号"
        rows(page, "#noshows", 1)
        wait_for_function(page, "document.getElementById('current-number').textContent"
                               " === '—'")
        shot(page, "console-last-recall")
    finally:
        ctx.close()


def test_a_console_whose_session_ended_asks_for_the_login(browser,
                                                          live_server: LiveServer) -> None:
    base = live_server.url
    ctx, page = at_counter(browser, base, "A1")
    try:
        # the session ends behind the open page (as a timeout or a logout elsewhere does)
        assert ctx.request.post(f"{base}/api/v1/logout").ok
        page.click("#walkin button[data-walkin=A]")
        page.wait_for_selector("#expired [role=alertdialog]")
        box = on_screen(page, "#expired .box")
        button = on_screen(page, "#expired .box button")
        assert box["left"] <= button["left"] and button["right"] <= box["right"], (box, button)
        assert box["top"] <= button["top"] and button["bottom"] <= box["bottom"], (box, button)
        assert page.locator("#expired p").inner_text() == "登录已过期，请重新登录。"
        assert page.evaluate("document.activeElement.textContent") == "重新登录"
        shot(page, "console-session-expired")
        assert_clean(page, base, "the console's expired-session prompt")
        page.click("#expired button")
        page.wait_for_selector("#login-form")
    finally:
        ctx.close()


def test_a_break_and_call_next_ending_it(browser, live_server: LiveServer) -> None:
    base = live_server.url
    requests.post(f"{base}/api/v1/tickets", json={"service": "A"}, headers=KIOSK)
    ctx, page = at_counter(browser, base, "A1")
    try:
        page.click("#pause")
        page.wait_for_selector("#paused-banner:visible")
        assert page.locator("#paused-banner").inner_text() == "暂停中 · 叫下一位即恢复"
        assert page.locator("#pause").get_attribute("aria-pressed") == "true"
        assert page.locator("#pause").inner_text() == "恢复"
        assert page.locator("#call-next").is_enabled()  # still possible: it ends the break
        state = requests.get(f"{base}/api/v1/state", headers=KIOSK).json()
        assert [c["paused"] for c in state["counters"] if c["id"] == "A1"] == [True]
        shot(page, "console-1366-paused")
        assert_clean(page, base, "the console on a break")
        # Resume, then a break again that Call next ends
        page.click("#pause")
        page.wait_for_selector("#paused-banner", state="hidden")
        message(page, "已恢复服务")
        page.click("#pause")
        page.wait_for_selector("#paused-banner:visible")
        page.click("#call-next")
        wait_for_function(page, "document.getElementById('current-number').textContent"
                               " === 'A001'")
        page.wait_for_selector("#paused-banner", state="hidden")
        assert page.locator("#pause").get_attribute("aria-pressed") == "false"
    finally:
        ctx.close()


def test_a_counter_another_nurse_holds(browser, live_server: LiveServer) -> None:
    base = live_server.url
    first, _ = at_counter(browser, base, "A1")
    ctx, page = at_counter(browser, base, "V1", username="demo-doctor")
    try:
        assert page.locator("#held").is_hidden()  # nobody else at V1
        page.click("#counter-picker button[data-counter=A1]")
        page.wait_for_selector("#held:visible")
        assert page.locator("#held-text").inner_text() == "窗口「1号诊室」正由 演示护士 使用"
        shot(page, "console-held")
        assert_clean(page, base, "the console's note of a counter held by another nurse")
        # pick another: no counter chosen until she picks one
        page.click("#held-other")
        page.wait_for_selector("#held", state="hidden")
        page.wait_for_selector("#counter-picker.unset")
        assert page.locator("#counter-picker button[aria-pressed=true]").count() == 0
        # or stay: the note goes, the counter stays hers too
        page.click("#counter-picker button[data-counter=A1]")
        page.wait_for_selector("#held:visible")
        page.click("#held-stay")
        page.wait_for_selector("#held", state="hidden")
        assert page.locator("#counter-picker button[data-counter=A1]").get_attribute(
            "aria-pressed") == "true"
    finally:
        ctx.close()
        first.close()
